package io.haproxyconfd.ports;

import io.haproxyconfd.domain.Backend;
import io.haproxyconfd.domain.ServiceName;
import java.util.List;

/** The unit tests' catalog keeps the promises DNS and Consul's catalog keep. */
class MemoryCatalogTest extends BackendResolverContract {
  private final MemoryCatalog catalog = new MemoryCatalog();

  @Override
  protected BackendResolver newResolver() {
    return catalog;
  }

  @Override
  protected void publish(ServiceName name, List<String> addresses) {
    catalog.set(name, addresses.stream().map(a -> Backend.of(a, PORT)).toList());
  }
}
