package io.haproxyconfd.ports;

import io.haproxyconfd.domain.Backend;
import io.haproxyconfd.domain.ServiceName;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A discovering resolver in memory for unit tests: the backends of each service as a test sets
 * them, and a signal on every change. It runs the same {@link BackendResolverContract} as DNS and
 * Consul's catalog do.
 */
public final class MemoryCatalog implements BackendResolver {
  private final Map<ServiceName, List<Backend>> services = new ConcurrentHashMap<>();
  private final List<ChangeListener> listeners = new CopyOnWriteArrayList<>();

  /** {@code name} now has {@code backends} (none: the catalog does not know it); signals. */
  public void set(ServiceName name, List<Backend> backends) {
    if (backends.isEmpty()) {
      services.remove(name);
    } else {
      services.put(name, List.copyOf(backends));
    }
    listeners.forEach(l -> l.changed("catalog changed (memory)"));
  }

  @Override
  public Map<BackendQuery, Resolution> resolve(Set<BackendQuery> queries) {
    Map<BackendQuery, Resolution> out = new HashMap<>();
    for (BackendQuery q : queries) {
      List<Backend> known = services.get(q.service());
      out.put(
          q,
          known == null
              ? new Resolution(List.of(), Optional.of(q.service() + " is not in the catalog"))
              : Resolution.of(known));
    }
    return out;
  }

  @Override
  public Subscription onChange(ChangeListener listener) {
    listeners.add(listener);
    return () -> listeners.remove(listener);
  }

  @Override
  public void close() {
    listeners.clear();
  }
}
