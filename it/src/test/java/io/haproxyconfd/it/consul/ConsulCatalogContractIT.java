package io.haproxyconfd.it.consul;

import io.haproxyconfd.adapters.consul.Consul;
import io.haproxyconfd.adapters.consul.ConsulSettings;
import io.haproxyconfd.domain.ServiceName;
import io.haproxyconfd.ports.BackendResolver;
import io.haproxyconfd.ports.BackendResolverContract;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * Consul's catalog keeps the promises of {@link BackendResolver}: against the emulator, or a real
 * agent when CONSUL_HTTP_ADDR is set. Each service's instances live on a node of their own, with a
 * passing check, registered through the catalog's HTTP API as an agent would.
 */
class ConsulCatalogContractIT extends BackendResolverContract {
  static ConsulEmulator emulator;
  static String address;
  static CatalogWrites writes;
  static final java.util.Set<String> NODES = java.util.concurrent.ConcurrentHashMap.newKeySet();

  @BeforeAll
  static void start() throws Exception {
    if (ConsulContractIT.REAL == null) {
      emulator = ConsulEmulator.start(Optional.empty());
      address = emulator.address();
    } else {
      address = ConsulContractIT.REAL.replaceFirst("^https?://", "");
    }
    writes = new CatalogWrites(address, ConsulContractIT.TOKEN);
  }

  @AfterAll
  static void stop() throws Exception {
    for (String node : NODES) {
      writes.removeNode(node); // a real agent keeps what tests register
    }
    if (emulator != null) {
      emulator.close();
    }
  }

  @Override
  protected BackendResolver newResolver() {
    ConsulSettings s =
        ConsulSettings.of(address).withTimings(Duration.ofSeconds(10), Duration.ofSeconds(3));
    String token = ConsulContractIT.TOKEN;
    return Consul.catalog(ConsulContractIT.REAL != null && token != null ? s.withToken(token) : s);
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
