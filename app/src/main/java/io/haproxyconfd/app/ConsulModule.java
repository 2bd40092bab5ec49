package io.haproxyconfd.app;

import com.google.inject.AbstractModule;
import com.google.inject.Provides;
import com.google.inject.Singleton;
import io.haproxyconfd.adapters.consul.Consul;
import io.haproxyconfd.adapters.consul.ConsulSettings;
import io.haproxyconfd.ports.KeyValueSource;

/** Keys from Consul KV under haproxy-<id>/. */
final class ConsulModule extends AbstractModule {
  private final ConsulSettings settings;

  ConsulModule(ConsulSettings settings) {
    this.settings = settings;
  }

  @Provides
  @Singleton
  KeyValueSource keyValueSource() {
    return Consul.keyValueSource(settings);
  }
}
