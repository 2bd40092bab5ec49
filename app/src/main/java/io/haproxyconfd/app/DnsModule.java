package io.haproxyconfd.app;

import com.google.inject.AbstractModule;
import com.google.inject.Provides;
import com.google.inject.Singleton;
import io.haproxyconfd.adapters.dns.DnsResolvers;
import io.haproxyconfd.adapters.dns.DnsSettings;
import io.haproxyconfd.ports.BackendResolver;

/** Backends from DNS, unless an agent wrote them as keys. */
final class DnsModule extends AbstractModule {
  private final DnsSettings settings;

  DnsModule(DnsSettings settings) {
    this.settings = settings;
  }

  @Provides
  @Singleton
  BackendResolver backendResolver(AgentNames names) {
    return new AgentKeysFirst(DnsResolvers.create(settings), names);
  }
}
