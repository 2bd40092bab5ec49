package io.haproxyconfd.app;

import com.google.inject.AbstractModule;
import com.google.inject.Provides;
import com.google.inject.Singleton;
import io.haproxyconfd.adapters.etcd.EtcdSettings;
import io.haproxyconfd.adapters.etcd.EtcdStore;
import io.haproxyconfd.ports.KeyValueSource;

/** Keys from etcd. Connecting is lazy: nothing is sent until the first read. */
final class EtcdModule extends AbstractModule {
  private final EtcdSettings settings;

  EtcdModule(EtcdSettings settings) {
    this.settings = settings;
  }

  @Provides
  @Singleton
  KeyValueSource keyValueSource() {
    return EtcdStore.connect(settings);
  }
}
