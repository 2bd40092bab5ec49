package io.haproxyconfd.app;

import com.google.inject.AbstractModule;
import com.google.inject.Provides;
import com.google.inject.Singleton;
import io.haproxyconfd.adapters.etcd.EtcdSettings;
import io.haproxyconfd.adapters.etcd.EtcdStore;
import io.haproxyconfd.ports.KeyValueSource;

/** Keys from etcd's v2 HTTP API (the seed image's and Kontena's stores). Connecting is lazy. */
final class EtcdV2Module extends AbstractModule {
  private final EtcdSettings settings;

  EtcdV2Module(EtcdSettings settings) {
    this.settings = settings;
  }

  @Provides
  @Singleton
  KeyValueSource keyValueSource() {
    return EtcdStore.connectV2(settings);
  }
}
