package io.haproxyconfd.domain;

/**
 * A host name a service answers, lower-cased; {@code *.example.org} matches any sub-domain of
 * example.org (not example.org itself).
 */
public record HostPattern(String value) implements RoutingRule, Comparable<HostPattern> {
  public HostPattern {
    value = Grammar.host(value, true);
  }

  public static HostPattern of(String value) {
    return new HostPattern(value);
  }

  public boolean isWildcard() {
    return value.startsWith("*.");
  }

  /** For a wildcard, the suffix a matching host ends with ({@code .example.org}); else the host. */
  public String suffix() {
    return isWildcard() ? value.substring(1) : value;
  }

  @Override
  public int compareTo(HostPattern other) {
    return value.compareTo(other.value);
  }

  @Override
  public String toString() {
    return value;
  }
}
