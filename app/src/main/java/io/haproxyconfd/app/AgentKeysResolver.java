package io.haproxyconfd.app;

import io.haproxyconfd.domain.Backend;
import io.haproxyconfd.ports.BackendQuery;
import io.haproxyconfd.ports.BackendResolver;
import io.haproxyconfd.ports.ChangeListener;
import io.haproxyconfd.ports.Resolution;
import io.haproxyconfd.ports.Subscription;
import jakarta.inject.Inject;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The Kontena mode: a service's backends are the {@code <instance>} and {@code
 * upstreams/<instance>} keys an orchestrator agent writes. Those keys are watched with all others,
 * so this resolver never signals anything itself.
 */
final class AgentKeysResolver implements BackendResolver {
  private final AgentNames names;

  @Inject
  AgentKeysResolver(AgentNames names) {
    this.names = names;
  }

  @Override
  public Map<BackendQuery, Resolution> resolve(Set<BackendQuery> queries) {
    Map<BackendQuery, Resolution> result = new HashMap<>();
    for (BackendQuery q : queries) {
      result.put(
          q,
          q.declaredByAgent()
              ? fromAgent(q, names)
              : new Resolution(
                  List.of(),
                  Optional.of(q.service() + " has no agent-written <instance> => ip:port key")));
    }
    return result;
  }

  /** Nothing is kept per service: the services asked are all there is to answer. */
  @Override
  public Map<BackendQuery, Resolution> resolve(
      Set<BackendQuery> interest, Set<BackendQuery> asked) {
    return resolve(asked);
  }

  /** The agent's addresses and the addresses of the hosts it named. */
  static Resolution fromAgent(BackendQuery q, AgentNames names) {
    List<String> warnings = new ArrayList<>();
    List<Backend> backends = new ArrayList<>(q.declared());
    backends.addAll(names.resolve(q.declaredNames(), warnings));
    return new Resolution(
        backends, warnings.isEmpty() ? Optional.empty() : Optional.of(String.join("; ", warnings)));
  }

  @Override
  public Subscription onChange(ChangeListener listener) {
    return () -> {};
  }

  @Override
  public void close() {
    names.close();
  }
}
