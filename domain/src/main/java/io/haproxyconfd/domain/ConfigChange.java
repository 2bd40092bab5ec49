package io.haproxyconfd.domain;

import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/**
 * How a desired config differs from the applied one, which decides how it can be applied: a change
 * of backends alone, or of routes alone, may need no reload.
 *
 * @param servicesWithNewBackends the services whose backend set changed (for every kind)
 * @param servicesWithNewRoutes the existing HTTP services whose routing changed (for every kind)
 */
public record ConfigChange(
    Kind kind, Set<ServiceName> servicesWithNewBackends, Set<ServiceName> servicesWithNewRoutes) {

  /** The kinds of change, cheapest to apply first. */
  public enum Kind {
    /** Nothing that HAProxy would see. */
    NONE,
    /** Only backend addresses were added, removed or changed. */
    BACKENDS_ONLY,
    /**
     * Only the routes of existing services changed (their {@link HttpService.Routing}): hosts, path
     * rules, or which of their routes another service holds. Backends and the rest are as they
     * were.
     */
    ROUTES_ONLY,
    /** Services, ports, certificates or options changed, or routes and backends together. */
    STRUCTURAL
  }

  public ConfigChange {
    Objects.requireNonNull(kind, "kind");
    servicesWithNewBackends = Set.copyOf(servicesWithNewBackends);
    servicesWithNewRoutes = Set.copyOf(servicesWithNewRoutes);
  }

  /** Compares service by service; builds no config, so it stays cheap at thousands of services. */
  public static ConfigChange between(ProxyConfig applied, ProxyConfig desired) {
    Set<ServiceName> changed = new TreeSet<>();
    Set<ServiceName> rerouted = new TreeSet<>();
    boolean structural =
        applied.http().size() != desired.http().size()
            || applied.tcp().size() != desired.tcp().size();
    Map<ServiceName, HttpService> httpBefore = new HashMap<>();
    applied.http().forEach(s -> httpBefore.put(s.name(), s));
    for (HttpService s : desired.http()) {
      HttpService old = httpBefore.remove(s.name());
      if (old == s) {
        continue; // the very same service: an unchanged one, handed on as it was
      }
      if (old == null || !old.policy().equals(s.policy())) {
        structural = true;
      } else if (!old.routing().equals(s.routing())) {
        rerouted.add(s.name());
      }
      if (old == null || !old.backends().equals(s.backends())) {
        changed.add(s.name());
      }
    }
    changed.addAll(httpBefore.keySet());
    Map<ServiceName, TcpService> tcpBefore = new HashMap<>();
    applied.tcp().forEach(s -> tcpBefore.put(s.name(), s));
    for (TcpService s : desired.tcp()) {
      TcpService old = tcpBefore.remove(s.name());
      if (old == s) {
        continue;
      }
      if (old == null
          || !old.externalPort().equals(s.externalPort())
          || old.balance() != s.balance()) {
        structural = true;
      }
      if (old == null || !old.backends().equals(s.backends())) {
        changed.add(s.name());
      }
    }
    changed.addAll(tcpBefore.keySet());
    structural |= !httpBefore.isEmpty() || !tcpBefore.isEmpty();
    boolean routes = !rerouted.isEmpty();
    structural |= routes && !changed.isEmpty();
    Kind kind =
        structural
            ? Kind.STRUCTURAL
            : routes ? Kind.ROUTES_ONLY : changed.isEmpty() ? Kind.NONE : Kind.BACKENDS_ONLY;
    return new ConfigChange(kind, changed, rerouted);
  }
}
