package io.haproxyconfd.domain;

/**
 * Session stickiness: HAProxy inserts a cookie with this name naming the server ({@code cookie}).
 */
public record StickyCookie(String name) {
  public static final String DEFAULT_NAME = "SERVERID";

  public StickyCookie {
    Grammar.token(name, "cookie name");
  }

  /** An empty value means "insert a server cookie" with the default name. */
  public static StickyCookie parse(String value) {
    String trimmed = value == null ? "" : value.trim();
    return new StickyCookie(trimmed.isEmpty() ? DEFAULT_NAME : trimmed);
  }
}
