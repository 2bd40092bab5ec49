package io.haproxyconfd.adapters.dns;

import io.haproxyconfd.ports.BackendResolver;
import java.time.Clock;

/** Makes the DNS {@link BackendResolver}. */
public final class DnsResolvers {
  private DnsResolvers() {}

  public static BackendResolver create(DnsSettings settings) {
    return new DnsBackendResolver(settings, Clock.systemUTC());
  }
}
