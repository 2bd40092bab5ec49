package io.haproxyconfd.app;

import io.haproxyconfd.domain.Backend;
import io.haproxyconfd.domain.NamedEndpoint;
import io.haproxyconfd.domain.ServiceName;
import io.haproxyconfd.ports.BackendQuery;
import io.haproxyconfd.ports.BackendResolver;
import io.haproxyconfd.ports.Resolution;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Agent keys that name {@code host:port}: each name is resolved once through its own DNS resolver
 * (never the one that watches service names, whose interest set it would disturb) and the answer
 * kept; a name that does not resolve is asked again next time.
 */
final class AgentNames implements AutoCloseable {
  private final Optional<BackendResolver> dns;
  private final Map<NamedEndpoint, List<Backend>> resolved = new ConcurrentHashMap<>();

  private AgentNames(Optional<BackendResolver> dns) {
    this.dns = dns;
  }

  /** Names are not allowed: the parser never lets one through. */
  static AgentNames none() {
    return new AgentNames(Optional.empty());
  }

  static AgentNames through(BackendResolver dns) {
    return new AgentNames(Optional.of(dns));
  }

  /** The addresses of every name; warnings for those that gave none. */
  List<Backend> resolve(List<NamedEndpoint> names, List<String> warnings) {
    List<Backend> backends = new ArrayList<>();
    for (NamedEndpoint name : names) {
      List<Backend> known = resolved.get(name);
      if (known == null) {
        known = lookUp(name, warnings);
        if (!known.isEmpty()) {
          resolved.put(name, known);
        }
      }
      backends.addAll(known);
    }
    return backends;
  }

  private List<Backend> lookUp(NamedEndpoint name, List<String> warnings) {
    if (dns.isEmpty()) {
      warnings.add(name + ": agent host names are turned off");
      return List.of();
    }
    BackendQuery q;
    try {
      q = new BackendQuery(new ServiceName(name.host()), Optional.of(name.port()), List.of());
    } catch (IllegalArgumentException e) {
      warnings.add(name + ": " + e.getMessage());
      return List.of();
    }
    Resolution r = dns.get().resolve(Set.of(q)).get(q);
    r.warning().ifPresent(w -> warnings.add(name + ": " + w));
    return r.backends();
  }

  @Override
  public void close() {
    dns.ifPresent(BackendResolver::close);
  }
}
