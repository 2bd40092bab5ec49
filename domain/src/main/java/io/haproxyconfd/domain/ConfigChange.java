package io.haproxyconfd.domain;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/**
 * How a desired config differs from the applied one, which decides how it can be applied: a
 * backends-only change needs no reload.
 *
 * @param servicesWithNewBackends the services whose backend set changed (for every kind)
 */
public record ConfigChange(Kind kind, Set<ServiceName> servicesWithNewBackends) {

  /** The kinds of change, cheapest to apply first. */
  public enum Kind {
    /** Nothing that HAProxy would see. */
    NONE,
    /** Only backend addresses were added, removed or changed. */
    BACKENDS_ONLY,
    /** Services, routes, ports, certificates or options changed. */
    STRUCTURAL
  }

  public ConfigChange {
    Objects.requireNonNull(kind, "kind");
    servicesWithNewBackends = Set.copyOf(servicesWithNewBackends);
  }

  public static ConfigChange between(ProxyConfig applied, ProxyConfig desired) {
    Set<ServiceName> changed = new TreeSet<>();
    Map<String, List<Backend>> before = backendsByService(applied);
    Map<String, List<Backend>> after = backendsByService(desired);
    after.forEach(
        (key, backends) -> {
          if (!backends.equals(before.get(key))) {
            changed.add(new ServiceName(key.substring(key.indexOf(':') + 1)));
          }
        });
    before.keySet().stream()
        .filter(k -> !after.containsKey(k))
        .forEach(k -> changed.add(new ServiceName(k.substring(k.indexOf(':') + 1))));
    Kind kind;
    if (!applied.withoutBackends().equals(desired.withoutBackends())) {
      kind = Kind.STRUCTURAL;
    } else {
      kind = changed.isEmpty() ? Kind.NONE : Kind.BACKENDS_ONLY;
    }
    return new ConfigChange(kind, changed);
  }

  private static Map<String, List<Backend>> backendsByService(ProxyConfig config) {
    Map<String, List<Backend>> map = new HashMap<>();
    config.http().forEach(s -> map.put("http:" + s.name(), s.backends()));
    config.tcp().forEach(s -> map.put("tcp:" + s.name(), s.backends()));
    return map;
  }
}
