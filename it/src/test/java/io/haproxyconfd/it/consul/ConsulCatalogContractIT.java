package io.haproxyconfd.it.consul;

import io.haproxyconfd.adapters.consul.Consul;
import io.haproxyconfd.domain.ServiceName;
import io.haproxyconfd.ports.BackendResolver;
import io.haproxyconfd.ports.BackendResolverContract;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * Consul's catalog keeps the promises of {@link BackendResolver}: against the emulator, or a real
 * agent when CONSUL_HTTP_ADDR is set. Each service's instances live on a node of their own, with a
 * passing check, registered through the catalog's HTTP API as an agent would.
 */
class ConsulCatalogContractIT extends BackendResolverContract {
  static ConsulTarget consul;
  static CatalogWrites writes;
  static final java.util.Set<String> NODES = java.util.concurrent.ConcurrentHashMap.newKeySet();

  @BeforeAll
  static void start() throws Exception {
    consul = ConsulTarget.start();
    writes = new CatalogWrites(consul.address(), ConsulTarget.TOKEN);
  }

  @AfterAll
  static void stop() throws Exception {
    for (String node : NODES) {
      writes.removeNode(node); // a real agent keeps what tests register
    }
    consul.close();
  }

  @Override
  protected BackendResolver newResolver() {
    return Consul.catalog(consul.settings());
  }

  @Override
  protected void publish(ServiceName name, List<String> addresses) throws Exception {
    String node = "confd-it-" + name.value(); // the prefix the README names for a real agent
    NODES.add(node);
    writes.removeNode(node);
    for (int i = 0; i < addresses.size(); i++) {
      writes.instance(
          node,
          "127.0.0.1",
          name.value(),
          name.value() + "-" + i,
          addresses.get(i),
          PORT,
          "passing");
    }
  }
}
