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
    Duration reloadTimeout) {

  private static final Pattern PASSWORD = Pattern.compile("[A-Za-z0-9._~!@%^*+=,:/-]{1,128}");
  private static final Pattern ADDRESS = Pattern.compile("[0-9a-fA-F.:*]{1,45}");

  public HaproxySettings {
    Objects.requireNonNull(binary, "binary");
    Objects.requireNonNull(stateDir, "stateDir");
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
        Duration.ofSeconds(10));
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
        reloadTimeout);
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
        reloadTimeout);
  }

  /** The address in HAProxy's bind syntax: IPv6 in brackets. */
  String bindHost() {
    return bindAddress.contains(":") ? "[" + bindAddress + "]" : bindAddress;
  }
}
