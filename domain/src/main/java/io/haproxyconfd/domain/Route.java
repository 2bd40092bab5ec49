package io.haproxyconfd.domain;

import java.util.Comparator;
import java.util.Objects;
import java.util.Optional;

/**
 * One way a request reaches a service: a host, a path rule, or both (then both must match).
 *
 * <p>{@link #MOST_SPECIFIC_FIRST} is the order rules are tried in: host and path before host only
 * before path only; exact hosts before wildcards, longer wildcards first; path prefixes before
 * regexes, longer prefixes first; then by text, so that the order is total and stable.
 */
public record Route(Optional<HostPattern> host, Optional<PathRule> path, ServiceName service) {
  public Route {
    Objects.requireNonNull(host, "host");
    Objects.requireNonNull(path, "path");
    Objects.requireNonNull(service, "service");
    if (host.isEmpty() && path.isEmpty()) {
      throw new IllegalArgumentException("a route needs a host or a path rule");
    }
  }

  /** Which of the three kinds of route this is, most specific first. */
  public enum Kind {
    HOST_AND_PATH,
    HOST,
    PATH
  }

  public Kind kind() {
    if (host.isPresent()) {
      return path.isPresent() ? Kind.HOST_AND_PATH : Kind.HOST;
    }
    return Kind.PATH;
  }

  /** What a route matches, whichever service it leads to: two routes with equal keys clash. */
  public record Match(Optional<HostPattern> host, Optional<PathRule> path) {}

  public Match match() {
    return new Match(host, path);
  }

  public static final Comparator<Route> MOST_SPECIFIC_FIRST =
      Comparator.comparing(Route::kind)
          .thenComparing(r -> r.host.map(HostPattern::isWildcard).orElse(false))
          .thenComparing(r -> -r.host.map(h -> h.value().length()).orElse(0))
          .thenComparing(r -> r.host.map(HostPattern::value).orElse(""))
          .thenComparing(r -> r.path.map(p -> p instanceof PathRegex).orElse(false))
          .thenComparing(r -> -r.path.map(p -> p.value().length()).orElse(0))
          .thenComparing(r -> r.path.map(PathRule::value).orElse(""))
          .thenComparing(Route::service);

  @Override
  public String toString() {
    return host.map(HostPattern::value).orElse("*")
        + path.map(p -> (p instanceof PathRegex ? " ~" : " ") + p.value()).orElse("")
        + " -> "
        + service;
  }
}
