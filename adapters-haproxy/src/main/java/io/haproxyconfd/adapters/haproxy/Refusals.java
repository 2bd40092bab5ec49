package io.haproxyconfd.adapters.haproxy;

import io.haproxyconfd.domain.KeyLayout;
import io.haproxyconfd.domain.Problem;
import io.haproxyconfd.domain.ProxyConfig;
import io.haproxyconfd.domain.ServiceName;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The services HAProxy refused, by the version it refused. Each stays out (or on its earlier
 * version) only while its keys give that same version: a changed or deleted service is tried again
 * at once. Not thread-safe: the configurator's lock guards it.
 */
final class Refusals {
  /** A refused version, why, and the earlier version serving instead, if HAProxy accepted one. */
  private record Refused(
      String key, Optional<Object> version, String reason, Optional<ProxyConfig> earlier) {}

  private Map<ServiceName, Refused> refused = Map.of();

  /** Drops the refusals whose service has changed or gone; returns the names of those. */
  Set<ServiceName> forgetChanged(ProxyConfig desired) {
    Set<ServiceName> changed = new TreeSet<>();
    Map<ServiceName, Refused> still = new TreeMap<>();
    refused.forEach(
        (name, r) -> {
          if (r.version().equals(version(desired, name))) {
            still.put(name, r);
          } else {
            changed.add(name);
          }
        });
    refused = still;
    return changed;
  }

  /** The desired config without the refused services, or with their earlier versions. */
  ProxyConfig applyTo(ProxyConfig desired) {
    ProxyConfig effective = desired.without(refused.keySet());
    for (var e : refused.entrySet()) {
      if (e.getValue().earlier().isPresent()) {
        effective = effective.replacing(e.getKey(), e.getValue().earlier().get()).orElse(effective);
      }
    }
    return effective;
  }

  /**
   * Records what a search of {@code effective} found; {@code applied} is what served before it, the
   * earlier version of each service the search kept.
   */
  void record(RefusalSearch.Result search, ProxyConfig effective, ProxyConfig applied) {
    Map<ServiceName, Refused> now = new TreeMap<>(refused);
    search
        .refused()
        .forEach(
            (name, reason) ->
                now.put(
                    name,
                    new Refused(
                        KeyLayout.folderOf(effective, name),
                        version(effective, name),
                        reason,
                        search.kept().contains(name)
                            ? Optional.of(applied.without(otherThan(applied, name)))
                            : Optional.empty())));
    refused = now;
  }

  boolean contains(ServiceName name) {
    return refused.containsKey(name);
  }

  /** A problem per refused service, naming its folder and what serves instead. */
  List<Problem> problems() {
    List<Problem> problems = new ArrayList<>();
    refused.forEach(
        (name, r) ->
            problems.add(
                new Problem(
                    r.key(),
                    "",
                    r.reason(),
                    r.earlier().isPresent()
                        ? Problem.Effect.LAST_GOOD_KEPT
                        : Problem.Effect.SERVICE_LEFT_OUT)));
    return problems;
  }

  /** The service of that name in {@code config}, HTTP or TCP, as the version to compare. */
  static Optional<Object> version(ProxyConfig config, ServiceName name) {
    Optional<Object> http = config.httpService(name).map(s -> s);
    return http.isPresent() ? http : config.tcpService(name).map(s -> s);
  }

  /** Every service name of {@code config} but {@code keep}. */
  private static Set<ServiceName> otherThan(ProxyConfig config, ServiceName keep) {
    Set<ServiceName> names = new TreeSet<>();
    config.http().forEach(s -> names.add(s.name()));
    config.tcp().forEach(s -> names.add(s.name()));
    names.remove(keep);
    return names;
  }
}
