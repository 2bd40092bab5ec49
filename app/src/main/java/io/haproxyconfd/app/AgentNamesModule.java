package io.haproxyconfd.app;

import com.google.inject.AbstractModule;
import com.google.inject.Provides;
import com.google.inject.Singleton;
import io.haproxyconfd.adapters.dns.DnsResolvers;
import io.haproxyconfd.adapters.dns.DnsSettings;
import java.util.Optional;

/** Agent keys naming host:port: resolved through DNS when allowed, refused otherwise. */
final class AgentNamesModule extends AbstractModule {
  private final Optional<DnsSettings> dns;

  AgentNamesModule(Optional<DnsSettings> dns) {
    this.dns = dns;
  }

  @Provides
  @Singleton
  AgentNames agentNames() {
    return dns.map(s -> AgentNames.through(DnsResolvers.create(s))).orElse(AgentNames.none());
  }
}
