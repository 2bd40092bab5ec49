package io.haproxyconfd.app;

import com.google.inject.AbstractModule;
import com.google.inject.Provides;
import com.google.inject.Singleton;
import io.haproxyconfd.adapters.consul.Consul;
import io.haproxyconfd.adapters.consul.ConsulSettings;
import io.haproxyconfd.ports.BackendResolver;

/** Backends from Consul's catalog (passing instances), unless an agent wrote them as keys. */
final class ConsulCatalogModule extends AbstractModule {
  private final ConsulSettings settings;

  ConsulCatalogModule(ConsulSettings settings) {
    this.settings = settings;
  }

  @Provides
  @Singleton
  BackendResolver backendResolver(AgentNames names) {
    return new AgentKeysFirst(Consul.catalog(settings), names);
  }
}
