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
      result.putAll(discovery.resolve(new Discovered(interest), discovered));
    }
    return result;
  }

  /**
   * The queries of {@code interest} that discovery answers, as a view: a pass at 10,000 services
   * that asks about one moved name does not copy and hash 10,000 queries. Its size is counted once.
   */
  private static final class Discovered extends java.util.AbstractSet<BackendQuery> {
    private final Set<BackendQuery> interest;
    private int size = -1;

    Discovered(Set<BackendQuery> interest) {
      this.interest = interest;
    }

    @Override
    public boolean contains(Object o) {
      return o instanceof BackendQuery q && !q.declaredByAgent() && interest.contains(q);
    }

    @Override
    public java.util.Iterator<BackendQuery> iterator() {
      return interest.stream().filter(q -> !q.declaredByAgent()).iterator();
    }

    @Override
    public int size() {
      if (size < 0) {
        size = (int) interest.stream().filter(q -> !q.declaredByAgent()).count();
      }
      return size;
    }
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
