package io.haproxyconfd.app;

import com.google.inject.AbstractModule;
import com.google.inject.Provides;
import com.google.inject.Singleton;
import io.haproxyconfd.adapters.haproxy.HaproxyConfigurators;
import io.haproxyconfd.adapters.haproxy.HaproxySettings;
import io.haproxyconfd.ports.ProxyConfigurator;

/** HAProxy as the proxy. Nothing runs until the configurator is started. */
final class HaproxyModule extends AbstractModule {
  private final HaproxySettings settings;

  HaproxyModule(HaproxySettings settings) {
    this.settings = settings;
  }

  @Provides
  @Singleton
  ProxyConfigurator proxyConfigurator() {
    return HaproxyConfigurators.create(settings);
  }
}
