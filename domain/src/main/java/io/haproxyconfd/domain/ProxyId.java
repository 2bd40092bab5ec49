package io.haproxyconfd.domain;

/** Which proxy instance this is ({@code HAPROXY_ID}); its keys live under {@code haproxy-<id>}. */
public record ProxyId(String value) {
  public ProxyId {
    Grammar.name(value, "HAPROXY_ID");
  }

  /** The folder name all of this proxy's keys live under, without any store-specific slashes. */
  public String folder() {
    return "haproxy-" + value;
  }

  @Override
  public String toString() {
    return value;
  }
}
