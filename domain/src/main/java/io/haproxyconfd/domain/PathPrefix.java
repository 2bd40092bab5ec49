package io.haproxyconfd.domain;

/** Requests whose path starts with this prefix ({@code url_beg}, {@code virtual_path}). */
public record PathPrefix(String value) implements PathRule {
  public PathPrefix {
    Grammar.path(value);
  }

  public static PathPrefix of(String value) {
    return new PathPrefix(value);
  }

  @Override
  public String toString() {
    return value;
  }
}
