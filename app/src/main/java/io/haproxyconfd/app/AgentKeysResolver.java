package io.haproxyconfd.app;

import io.haproxyconfd.ports.BackendQuery;
import io.haproxyconfd.ports.BackendResolver;
import io.haproxyconfd.ports.ChangeListener;
import io.haproxyconfd.ports.Resolution;
import io.haproxyconfd.ports.Subscription;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The Kontena mode: a service's backends are the {@code <instance>} and {@code
 * upstreams/<instance>} keys an orchestrator agent writes. Those keys are watched with all others,
 * so this resolver never signals anything itself.
 */
final class AgentKeysResolver implements BackendResolver {
  @Override
  public Map<BackendQuery, Resolution> resolve(Set<BackendQuery> queries) {
    Map<BackendQuery, Resolution> result = new HashMap<>();
    for (BackendQuery q : queries) {
      result.put(
          q,
          new Resolution(
              q.declared(),
              q.declared().isEmpty()
                  ? Optional.of(q.service() + " has no agent-written <instance> => ip:port key")
                  : Optional.empty()));
    }
    return result;
  }

  @Override
  public Subscription onChange(ChangeListener listener) {
    return () -> {};
  }

  @Override
  public void close() {}
}
