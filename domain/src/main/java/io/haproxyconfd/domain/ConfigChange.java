package io.haproxyconfd.domain;

import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.BiPredicate;
import java.util.function.Function;

/**
 * How a desired config differs from the applied one, which decides how it can be applied: a change
 * of backends alone, or of routes alone, may need no reload.
 *
 * @param servicesWithNewBackends the services whose backend set changed (for every kind); for
 *     {@link Kind#SERVICES_ADDED}, the new services
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
     * rules, or which of their routes another service holds; or whether a prefix stays on the path
     * ({@code keep_path}), which is routing too. Backends and the rest are as they were.
     */
    ROUTES_ONLY,
    /**
     * Only new HTTP services: every service that was there is as it was, and no TCP service came or
     * went. A proxy may be able to serve them from capacity prepared ahead.
     */
    SERVICES_ADDED,
    /** Services, ports, certificates or options changed, or routes and backends together. */
    STRUCTURAL
  }

  public ConfigChange {
    Objects.requireNonNull(kind, "kind");
    servicesWithNewBackends = Set.copyOf(servicesWithNewBackends);
    servicesWithNewRoutes = Set.copyOf(servicesWithNewRoutes);
  }

  /**
   * Compares service by service, walking both name-sorted lists side by side: a service handed on
   * as the very same object costs one comparison, so this stays cheap at 10,000 services.
   */
  public static ConfigChange between(ProxyConfig applied, ProxyConfig desired) {
    Set<ServiceName> changed = new TreeSet<>();
    Set<ServiceName> rerouted = new TreeSet<>();
    Set<ServiceName> addedHttp = new TreeSet<>();
    boolean structural =
        walk(
            applied.http(),
            desired.http(),
            HttpService::name,
            (old, s) -> {
              // keep_path decides which path the servers see, as routing does: a map line too.
              boolean sameButKeepPath =
                  old.policy().withKeepPath(s.policy().keepPath()).equals(s.policy());
              if (!old.routing().equals(s.routing())
                  || old.policy().keepPath() != s.policy().keepPath()) {
                rerouted.add(s.name());
              }
              if (!old.backends().equals(s.backends())) {
                changed.add(s.name());
              }
              return !sameButKeepPath;
            },
            changed,
            addedHttp);
    // HTTP and TCP services may share a name: what changed is told apart by kind.
    Set<ServiceName> changedTcp = new TreeSet<>();
    Set<ServiceName> addedTcp = new TreeSet<>();
    structural |=
        walk(
            applied.tcp(),
            desired.tcp(),
            TcpService::name,
            (old, s) -> {
              if (!old.backends().equals(s.backends())) {
                changedTcp.add(s.name());
              }
              return !old.externalPort().equals(s.externalPort()) || old.balance() != s.balance();
            },
            changedTcp,
            addedTcp);
    structural |= !addedTcp.isEmpty();
    boolean routes = !rerouted.isEmpty();
    boolean httpChangedBeyondAdded = changed.size() > addedHttp.size();
    changed.addAll(changedTcp);
    structural |= routes && !changed.isEmpty();
    if (!structural && !addedHttp.isEmpty()) {
      // New services alone, or new services beside other changes: the latter is structural.
      structural = routes || httpChangedBeyondAdded || !changedTcp.isEmpty();
      if (!structural) {
        return new ConfigChange(Kind.SERVICES_ADDED, addedHttp, Set.of());
      }
    }
    Kind kind =
        structural
            ? Kind.STRUCTURAL
            : routes ? Kind.ROUTES_ONLY : changed.isEmpty() ? Kind.NONE : Kind.BACKENDS_ONLY;
    return new ConfigChange(kind, changed, rerouted);
  }

  /**
   * Walks two name-sorted lists; {@code compare} is given each service present in both as another
   * object, and says whether the difference is structural. A service gone is structural; a new one
   * goes into {@code added}. Either way its backends count as changed.
   *
   * @return whether anything structural was found
   */
  private static <S> boolean walk(
      List<S> before,
      List<S> after,
      Function<S, ServiceName> name,
      BiPredicate<S, S> compare,
      Set<ServiceName> changed,
      Set<ServiceName> added) {
    boolean structural = false;
    int i = 0;
    int j = 0;
    while (i < before.size() || j < after.size()) {
      int same = ProxyConfig.sameRun(before, i, after, j);
      i += same;
      j += same;
      if (i >= before.size() && j >= after.size()) {
        break;
      }
      S old = i < before.size() ? before.get(i) : null;
      S now = j < after.size() ? after.get(j) : null;
      if (old != null && old == now) {
        i++;
        j++;
        continue; // the very same service: an unchanged one, handed on as it was
      }
      int c = old == null ? 1 : now == null ? -1 : name.apply(old).compareTo(name.apply(now));
      if (c < 0) {
        changed.add(name.apply(old)); // gone
        structural = true;
        i++;
      } else if (c > 0) {
        changed.add(name.apply(now)); // new
        added.add(name.apply(now));
        j++;
      } else {
        structural |= compare.test(old, now);
        i++;
        j++;
      }
    }
    return structural;
  }
}
