package io.haproxyconfd.app;

import io.haproxyconfd.domain.Backend;
import io.haproxyconfd.domain.NamedEndpoint;
import io.haproxyconfd.domain.Port;
import io.haproxyconfd.domain.ServiceName;
import io.haproxyconfd.ports.BackendQuery;
import io.haproxyconfd.ports.BackendResolver;
import io.haproxyconfd.ports.BackendResolverContract;
import io.haproxyconfd.ports.MemoryCatalog;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Nested;

/**
 * The resolvers built from agent keys keep the promises of {@link BackendResolver}: the Kontena
 * mode's, and the composites that put agent keys before a discovering resolver (DNS or Consul's
 * catalog, here the in-memory catalog that runs the same contract). In the composites the catalog
 * holds another address for every published name, so only the agent's keys give the answer.
 */
class AgentResolversTest {
  /** What the catalog gives for every name an agent key also names: never the answer. */
  static final Backend DISCOVERED = Backend.of("127.0.0.99", 8080);

  /** Agent keys by address: what a query declares is what it resolves to. */
  abstract static class ByAddress extends BackendResolverContract {
    final Map<ServiceName, List<Backend>> agentKeys = new ConcurrentHashMap<>();

    @Override
    protected void publish(ServiceName name, List<String> addresses) {
      agentKeys.put(name, addresses.stream().map(a -> Backend.of(a, PORT)).toList());
    }

    @Override
    protected BackendQuery query(ServiceName name) {
      return new BackendQuery(
          name, Optional.of(Port.of(PORT)), agentKeys.getOrDefault(name, List.of()));
    }

    @Override
    protected boolean signalsChanges() {
      return false; // agent keys are watched with every other key
    }
  }

  @Nested
  class KontenaMode extends ByAddress {
    @Override
    protected BackendResolver newResolver() {
      return new AgentKeysResolver(AgentNames.none());
    }
  }

  @Nested
  class AgentAddressesBeforeDiscovery extends ByAddress {
    final MemoryCatalog catalog = new MemoryCatalog();

    @Override
    protected BackendResolver newResolver() {
      return new AgentKeysFirst(catalog, AgentNames.none());
    }

    @Override
    protected void publish(ServiceName name, List<String> addresses) {
      catalog.set(name, List.of(DISCOVERED));
      super.publish(name, addresses);
    }
  }

  /**
   * Agent keys naming {@code host:port} (AGENT_HOST_NAMES), each name resolved through its own
   * resolver: here a catalog that knows the host names. Every publish names new hosts, since a
   * resolved name is kept.
   */
  @Nested
  class AgentHostNamesBeforeDiscovery extends BackendResolverContract {
    final MemoryCatalog catalog = new MemoryCatalog();
    final MemoryCatalog hostNames = new MemoryCatalog();
    final Map<ServiceName, List<NamedEndpoint>> agentKeys = new ConcurrentHashMap<>();
    final AtomicInteger generation = new AtomicInteger();

    @Override
    protected BackendResolver newResolver() {
      return new AgentKeysFirst(catalog, AgentNames.through(hostNames));
    }

    @Override
    protected void publish(ServiceName name, List<String> addresses) {
      catalog.set(name, List.of(DISCOVERED));
      List<NamedEndpoint> names = new ArrayList<>();
      int g = generation.incrementAndGet();
      for (int i = 0; i < addresses.size(); i++) {
        String host = "h" + g + "-" + i + "." + name.value();
        hostNames.set(ServiceName.of(host), List.of(Backend.of(addresses.get(i), PORT)));
        names.add(NamedEndpoint.parse(host + ":" + PORT));
      }
      agentKeys.put(name, names);
    }

    @Override
    protected BackendQuery query(ServiceName name) {
      return new BackendQuery(
          name, Optional.of(Port.of(PORT)), List.of(), agentKeys.getOrDefault(name, List.of()));
    }

    @Override
    protected boolean signalsChanges() {
      return false;
    }
  }

  /** A service with no agent key is the discovering resolver's. */
  @Nested
  class DiscoveryWithoutAgentKeys extends BackendResolverContract {
    final MemoryCatalog catalog = new MemoryCatalog();

    @Override
    protected BackendResolver newResolver() {
      return new AgentKeysFirst(catalog, AgentNames.none());
    }

    @Override
    protected void publish(ServiceName name, List<String> addresses) {
      catalog.set(name, addresses.stream().map(a -> Backend.of(a, PORT)).toList());
    }
  }
}
