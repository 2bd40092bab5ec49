package io.haproxyconfd.app;

import io.haproxyconfd.ports.BackendQuery;
import io.haproxyconfd.ports.BackendResolver;
import io.haproxyconfd.ports.ChangeListener;
import io.haproxyconfd.ports.Resolution;
import io.haproxyconfd.ports.Subscription;
import java.util.HashMap;
import java.util.HashSet;
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

  /**
   * Agent-written services are answered here; discovery is asked only when a service it resolves is
   * among {@code asked}, so a change of agent keys costs no discovery work.
   */
  @Override
  public Map<BackendQuery, Resolution> resolve(
      Set<BackendQuery> interest, Set<BackendQuery> asked) {
    Map<BackendQuery, Resolution> result = new HashMap<>();
    Set<BackendQuery> discovered = new HashSet<>();
    for (BackendQuery q : asked) {
      if (q.declaredByAgent()) {
        result.put(q, AgentKeysResolver.fromAgent(q, names));
      } else {
        discovered.add(q);
      }
    }
    if (!discovered.isEmpty()) {
      Set<BackendQuery> discoveryInterest =
          interest.stream().filter(q -> !q.declaredByAgent()).collect(Collectors.toSet());
      result.putAll(discovery.resolve(discoveryInterest, discovered));
    }
    return result;
  }

  @Override
  public Subscription onChange(ChangeListener listener) {
    return discovery.onChange(listener);
  }

  @Override
  public java.util.Optional<Set<BackendQuery>> takeChanges() {
    return discovery.takeChanges();
  }

  @Override
  public Map<String, Long> counters() {
    return discovery.counters();
  }

  @Override
  public void close() {
    discovery.close();
    names.close();
  }
}
