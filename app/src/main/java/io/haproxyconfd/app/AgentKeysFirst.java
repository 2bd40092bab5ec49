package io.haproxyconfd.app;

import io.haproxyconfd.ports.BackendQuery;
import io.haproxyconfd.ports.BackendResolver;
import io.haproxyconfd.ports.ChangeListener;
import io.haproxyconfd.ports.Resolution;
import io.haproxyconfd.ports.Subscription;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Backends an agent wrote as keys win over discovery: a service with {@code <instance>} keys uses
 * them, by address or, where the operator allows it, by host name; every other service is asked of
 * the discovering resolver (DNS, Consul's catalog).
 */
final class AgentKeysFirst implements BackendResolver {
  private final BackendResolver discovery;
  private final AgentNames names;

  AgentKeysFirst(BackendResolver discovery, AgentNames names) {
    this.discovery = discovery;
    this.names = names;
  }

  @Override
  public Map<BackendQuery, Resolution> resolve(Set<BackendQuery> queries) {
    Map<Boolean, Set<BackendQuery>> split =
        queries.stream()
            .collect(Collectors.partitioningBy(BackendQuery::declaredByAgent, Collectors.toSet()));
    Map<BackendQuery, Resolution> result = new HashMap<>(discovery.resolve(split.get(false)));
    split.get(true).forEach(q -> result.put(q, AgentKeysResolver.fromAgent(q, names)));
    return result;
  }

  @Override
  public Subscription onChange(ChangeListener listener) {
    return discovery.onChange(listener);
  }

  @Override
  public void close() {
    discovery.close();
    names.close();
  }
}
