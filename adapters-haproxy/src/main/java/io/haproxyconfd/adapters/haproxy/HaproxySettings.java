package io.haproxyconfd.adapters.haproxy;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * How to run HAProxy.
 *
 * @param binary the haproxy executable
 * @param stateDir where the config, maps, certificates, sockets and pid file live; kept across
 *     restarts so that the last good config serves at once
 * @param templateDir an operator's own templates, used instead of the built-in ones when set
 * @param bindAddress the address the HTTP, HTTPS, stats and TCP listeners bind to
 * @param httpPort the HTTP port (seed: 80)
 * @param httpsPort the HTTPS port (seed: 443), bound when a valid certificate exists
 * @param statsPort the stats and Prometheus port (seed: 1000)
 * @param statsPassword the stats page password for user {@code admin}; no stats page without it
 * @param hardStopAfter how long old workers may keep serving long-lived connections after a reload
 * @param reloadTimeout how long a reload may take before it counts as failed
 * @param serving health checks, logs and listener options
 * @param spareBackends how many empty HTTP backends each reload prepares, so that new services with
 *     default settings are served through the runtime API until the next reload names them; 0 for
 *     none
 */
public record HaproxySettings(
    Path binary,
    Path stateDir,
    Optional<Path> templateDir,
    String bindAddress,
    int httpPort,
    int httpsPort,
    int statsPort,
    Optional<String> statsPassword,
    Duration hardStopAfter,
    Duration reloadTimeout,
    Serving serving,
    int spareBackends) {

  /** Spare backends by default: 32 of 4 slots each, 128 server slots in all. */
  public static final int DEFAULT_SPARE_BACKENDS = 32;

  private static final Pattern PASSWORD = Pattern.compile("[A-Za-z0-9._~!@%^*+=,:/-]{1,128}");
  private static final Pattern ADDRESS = Pattern.compile("[0-9a-fA-F.:*]{1,45}");

  /** Where HAProxy's access log goes, and in which format. */
  public enum AccessLog {
    OFF,
    /** HAProxy's own HTTP and TCP log formats. */
    TEXT,
    /** One JSON object per line, for log shippers. */
    JSON
  }

  /**
   * What HAProxy does beyond routing.
   *
   * @param checkInterval how often each server is health-checked (a server is taken out after 3
   *     failed checks in a row, and back in after 2 good ones)
   * @param accessLog one line per HTTP request and TCP connection on the daemon's standard output
   * @param http2 whether the TLS listener offers HTTP/2 (ALPN {@code h2,http/1.1})
   * @param acceptProxy whether every listener but stats expects the PROXY protocol
   * @param cookieKey the secret sticky cookies are derived from; by default one made once and kept
   *     in the state directory
   * @param healthUri a path HAProxy itself answers with 200 on the HTTP and HTTPS listeners, for an
   *     outer load balancer's checks ({@code monitor-uri})
   */
  public record Serving(
      Duration checkInterval,
      AccessLog accessLog,
      boolean http2,
      boolean acceptProxy,
      Optional<String> cookieKey,
      Optional<String> healthUri) {
    private static final Pattern COOKIE_KEY = Pattern.compile("[A-Za-z0-9._-]{8,128}");
    private static final Pattern HEALTH_URI = Pattern.compile("/[A-Za-z0-9._~/-]{0,127}");

    public static final Serving DEFAULT =
        new Serving(
            Duration.ofSeconds(5), AccessLog.OFF, true, false, Optional.empty(), Optional.empty());

    public Serving {
      if (checkInterval.toMillis() < 100 || checkInterval.toMinutes() > 60) {
        throw new IllegalArgumentException(
            "the check interval must be between 100ms and 1h, not " + checkInterval);
      }
      Objects.requireNonNull(accessLog, "accessLog");
      cookieKey.ifPresent(
          k -> {
            if (!COOKIE_KEY.matcher(k).matches()) {
              throw new IllegalArgumentException(
                  "COOKIE_KEY must be 8 to 128 letters, digits or ._- (no spaces, quotes or '#')");
            }
          });
      healthUri.ifPresent(
          u -> {
            if (!HEALTH_URI.matcher(u).matches()) {
              throw new IllegalArgumentException(
                  "HEALTH_URI must be a path: '/' then up to 127 letters, digits or ._~/-");
            }
          });
    }
  }

  public HaproxySettings {
    Objects.requireNonNull(binary, "binary");
    Objects.requireNonNull(serving, "serving");
    Objects.requireNonNull(stateDir, "stateDir");
    if (spareBackends < 0 || spareBackends > 1000) {
      throw new IllegalArgumentException(
          "SPARE_BACKENDS must be between 0 and 1000, not " + spareBackends);
    }
    if (!ADDRESS.matcher(bindAddress).matches()) {
      throw new IllegalArgumentException("bind address '" + bindAddress + "' is not an IP address");
    }
    statsPassword.ifPresent(
        p -> {
          if (!PASSWORD.matcher(p).matches()) {
            throw new IllegalArgumentException(
                "STATS_PASSWORD may hold only letters, digits and ._~!@%^*+=,:/- (no spaces, quotes"
                    + " or '#')");
          }
        });
  }

  /** The seed image's ports on all addresses, HAProxy from PATH. */
  public static HaproxySettings defaults(Path stateDir) {
    return new HaproxySettings(
        Path.of("haproxy"),
        stateDir,
        Optional.empty(),
        "0.0.0.0",
        80,
        443,
        1000,
        Optional.empty(),
        Duration.ofSeconds(30),
        Duration.ofSeconds(10),
        Serving.DEFAULT,
        DEFAULT_SPARE_BACKENDS);
  }

  public HaproxySettings withPorts(String address, int http, int https, int stats) {
    return new HaproxySettings(
        binary,
        stateDir,
        templateDir,
        address,
        http,
        https,
        stats,
        statsPassword,
        hardStopAfter,
        reloadTimeout,
        serving,
        spareBackends);
  }

  public HaproxySettings withStatsPassword(String password) {
    return new HaproxySettings(
        binary,
        stateDir,
        templateDir,
        bindAddress,
        httpPort,
        httpsPort,
        statsPort,
        Optional.of(password),
        hardStopAfter,
        reloadTimeout,
        serving,
        spareBackends);
  }

  public HaproxySettings withServing(Serving newServing) {
    return new HaproxySettings(
        binary,
        stateDir,
        templateDir,
        bindAddress,
        httpPort,
        httpsPort,
        statsPort,
        statsPassword,
        hardStopAfter,
        reloadTimeout,
        newServing,
        spareBackends);
  }

  public HaproxySettings withSpareBackends(int spares) {
    return new HaproxySettings(
        binary,
        stateDir,
        templateDir,
        bindAddress,
        httpPort,
        httpsPort,
        statsPort,
        statsPassword,
        hardStopAfter,
        reloadTimeout,
        serving,
        spares);
  }

  /** The address in HAProxy's bind syntax: IPv6 in brackets. */
  String bindHost() {
    return bindAddress.contains(":") ? "[" + bindAddress + "]" : bindAddress;
  }
}
