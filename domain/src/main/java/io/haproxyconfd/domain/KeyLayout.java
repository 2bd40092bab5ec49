package io.haproxyconfd.domain;

/**
 * Where a service's keys live under a proxy's prefix: {@code services/<name>/...} for HTTP and
 * {@code tcp-services/<name>/...} for TCP. The one place these folder names are spelled; problems
 * and logs name a service by {@link #folderOf}.
 */
public final class KeyLayout {
  /** The folder of HTTP services. */
  public static final String HTTP = "services";

  /** The folder of TCP services. */
  public static final String TCP = "tcp-services";

  private KeyLayout() {}

  /** {@code services/<name>}. */
  public static String http(ServiceName name) {
    return HTTP + "/" + name;
  }

  /** {@code tcp-services/<name>}. */
  public static String tcp(ServiceName name) {
    return TCP + "/" + name;
  }

  /** The folder of a service of {@code config}: TCP if it has a TCP service of that name. */
  public static String folderOf(ProxyConfig config, ServiceName name) {
    return config.tcpService(name).isPresent() ? tcp(name) : http(name);
  }

  /** Whether a problem's key is under the HTTP folder. */
  public static boolean isHttp(String key) {
    return key.startsWith(HTTP + "/");
  }

  /** Whether a problem's key is under the TCP folder. */
  public static boolean isTcp(String key) {
    return key.startsWith(TCP + "/");
  }
}
