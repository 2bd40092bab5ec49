package io.haproxyconfd.adapters.etcd;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * How to reach etcd.
 *
 * @param endpoints one or more client URLs
 * @param user with {@code password}, etcd's user/password authentication
 * @param caFile the CA that signed etcd's server certificate (TLS)
 * @param certFile with {@code keyFile}, a client certificate for etcd's client-cert-auth
 * @param timeout the deadline of every call
 */
public record EtcdSettings(
    List<URI> endpoints,
    Optional<String> user,
    Optional<String> password,
    Optional<Path> caFile,
    Optional<Path> certFile,
    Optional<Path> keyFile,
    Duration timeout) {

  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(5);

  /** etcd's client port, for an endpoint given as a bare host. */
  public static final int DEFAULT_PORT = 2379;

  public EtcdSettings {
    endpoints = List.copyOf(endpoints);
    if (endpoints.isEmpty()) {
      throw new IllegalArgumentException("no etcd endpoint given");
    }
    Objects.requireNonNull(timeout, "timeout");
    if (user.isPresent() != password.isPresent()) {
      throw new IllegalArgumentException("etcd user and password go together");
    }
    if (certFile.isPresent() != keyFile.isPresent()) {
      throw new IllegalArgumentException("etcd client certificate and key go together");
    }
  }

  /** Plain endpoints, no authentication, the default timeout. */
  public static EtcdSettings of(String endpoints) {
    return new EtcdSettings(
        parseEndpoints(endpoints),
        Optional.empty(),
        Optional.empty(),
        Optional.empty(),
        Optional.empty(),
        Optional.empty(),
        DEFAULT_TIMEOUT);
  }

  public EtcdSettings withUser(String name, String secret) {
    return new EtcdSettings(
        endpoints, Optional.of(name), Optional.of(secret), caFile, certFile, keyFile, timeout);
  }

  public EtcdSettings withTls(Path ca, Optional<Path> cert, Optional<Path> key) {
    return new EtcdSettings(endpoints, user, password, Optional.of(ca), cert, key, timeout);
  }

  public EtcdSettings withTimeout(Duration newTimeout) {
    return new EtcdSettings(endpoints, user, password, caFile, certFile, keyFile, newTimeout);
  }

  /**
   * Parses {@code ETCD_NODE}: comma-separated, each {@code http://host:port}, {@code
   * https://host:port}, a bare host (port 2379) or, as the seed image accepted, a bare {@code
   * host:port} (then http, or https when a CA is configured: see {@link #usesTls()}).
   */
  public static List<URI> parseEndpoints(String text) {
    List<URI> uris = new ArrayList<>();
    for (String part : text.split(",")) {
      String p = part.strip();
      if (p.isEmpty()) {
        continue;
      }
      URI uri = URI.create(p.contains("://") ? p : "http://" + p);
      if (uri.getHost() != null
          && uri.getPort() < 0
          && (uri.getPath() == null || uri.getPath().isEmpty())) {
        // A bare host, as Kontena's ETCD_NODE=etcd.kontena.local: etcd's client port.
        uri = URI.create(uri.getScheme() + "://" + uri.getHost() + ":" + DEFAULT_PORT);
      }
      if (uri.getHost() == null
          || uri.getPort() < 1
          || !(uri.getScheme().equals("http") || uri.getScheme().equals("https"))) {
        throw new IllegalArgumentException(
            "etcd endpoint '" + p + "' is not http(s)://host:port or host:port");
      }
      uris.add(uri);
    }
    if (uris.isEmpty()) {
      throw new IllegalArgumentException("no etcd endpoint in '" + text + "'");
    }
    return uris;
  }

  public boolean usesTls() {
    return caFile.isPresent() || endpoints.stream().anyMatch(u -> u.getScheme().equals("https"));
  }
}
