package io.haproxyconfd.ports;

import io.haproxyconfd.domain.ProxyId;

/** The unit tests' store keeps the promises etcd and Consul keep. */
class MemoryStoreTest extends KeyValueSourceContract {
  private final MemoryStore store = new MemoryStore();

  @Override
  protected KeyValueSource newSource() {
    return store;
  }

  @Override
  protected void put(ProxyId proxy, String key, String value) {
    store.put(proxy, key, value);
  }

  @Override
  protected void deleteFolder(ProxyId proxy, String folder) {
    store.deleteFolder(proxy, folder);
  }
}
