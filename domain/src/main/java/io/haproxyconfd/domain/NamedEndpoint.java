package io.haproxyconfd.domain;

/**
 * A backend an agent wrote as {@code host:port} instead of {@code ip:port}. Used only when the
 * operator allows it; the host is then resolved once through DNS.
 */
public record NamedEndpoint(String host, Port port) implements Comparable<NamedEndpoint> {
  public NamedEndpoint {
    host = Grammar.host(host, false);
    if (port == null) {
      throw new IllegalArgumentException("port is missing");
    }
  }

  /** Parses {@code host:port}; an IP address is not a name (use {@link Backend#parse}). */
  public static NamedEndpoint parse(String text) {
    int colon = text == null ? -1 : text.lastIndexOf(':');
    if (colon < 1 || text.indexOf(':') != colon) {
      throw new IllegalArgumentException("not host:port");
    }
    String host = text.substring(0, colon);
    if (Backend.isIpv4(host)) {
      throw new IllegalArgumentException("not host:port");
    }
    return new NamedEndpoint(host, Port.parse(text.substring(colon + 1)));
  }

  @Override
  public int compareTo(NamedEndpoint o) {
    int c = host.compareTo(o.host);
    return c != 0 ? c : port.compareTo(o.port);
  }

  @Override
  public String toString() {
    return host + ":" + port;
  }
}
