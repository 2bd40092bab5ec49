package io.haproxyconfd.domain;

/** Requests whose path matches this regular expression ({@code url_reg}). */
public record PathRegex(String value) implements PathRule {
  public PathRegex {
    Grammar.regex(value);
  }

  public static PathRegex of(String value) {
    return new PathRegex(value);
  }

  @Override
  public String toString() {
    return value;
  }
}
