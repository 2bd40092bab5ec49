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

  /** Written out rather than chained: sorting 10,000 routes allocates nothing. */
  public static final Comparator<Route> MOST_SPECIFIC_FIRST = Route::bySpecificity;

  private static int bySpecificity(Route a, Route b) {
    int c = a.kind().compareTo(b.kind());
    if (c != 0) {
      return c;
    }
    HostPattern ah = a.host.orElse(null);
    HostPattern bh = b.host.orElse(null);
    c = Boolean.compare(ah != null && ah.isWildcard(), bh != null && bh.isWildcard());
    if (c != 0) {
      return c;
    }
    String ahv = ah == null ? "" : ah.value();
    String bhv = bh == null ? "" : bh.value();
    c = Integer.compare(bhv.length(), ahv.length()); // longer first
    if (c != 0) {
      return c;
    }
    c = ahv.compareTo(bhv);
    if (c != 0) {
      return c;
    }
    PathRule ap = a.path.orElse(null);
    PathRule bp = b.path.orElse(null);
    c = Boolean.compare(ap instanceof PathRegex, bp instanceof PathRegex);
    if (c != 0) {
      return c;
    }
    String apv = ap == null ? "" : ap.value();
    String bpv = bp == null ? "" : bp.value();
    c = Integer.compare(bpv.length(), apv.length());
    if (c != 0) {
      return c;
    }
    c = apv.compareTo(bpv);
    return c != 0 ? c : a.service.compareTo(b.service);
  }

  @Override
  public String toString() {
    return host.map(HostPattern::value).orElse("*")
        + path.map(p -> (p instanceof PathRegex ? " ~" : " ") + p.value()).orElse("")
        + " -> "
        + service;
  }
}
