package io.haproxyconfd.app;

import io.haproxyconfd.adapters.haproxy.HaproxySettings;
import io.haproxyconfd.domain.ParseOptions;
import io.haproxyconfd.domain.Port;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import picocli.CommandLine.Option;

/** How HAProxy runs: ports, state directory, stats password, templates. */
final class ProxyOptions {
  @Option(
      names = "--state-dir",
      defaultValue = "${env:STATE_DIR:-/var/lib/haproxy-confd}",
      description =
          "Where haproxy.cfg, maps, certificates and sockets live (env STATE_DIR; default ${DEFAULT-VALUE}).")
  Path stateDir;

  @Option(
      names = "--haproxy",
      defaultValue = "${env:HAPROXY_BIN:-haproxy}",
      description = "The haproxy executable (env HAPROXY_BIN; default ${DEFAULT-VALUE}).")
  Path binary;

  @Option(
      names = "--bind",
      defaultValue = "${env:BIND_ADDRESS:-0.0.0.0}",
      description = "Address HAProxy listens on (env BIND_ADDRESS; default ${DEFAULT-VALUE}).")
  String bind;

  @Option(
      names = "--http-port",
      defaultValue = "${env:HTTP_PORT:-80}",
      description = "HTTP port (env HTTP_PORT; default ${DEFAULT-VALUE}).")
  int httpPort;

  @Option(
      names = "--https-port",
      defaultValue = "${env:HTTPS_PORT:-443}",
      description = "HTTPS port (env HTTPS_PORT; default ${DEFAULT-VALUE}).")
  int httpsPort;

  @Option(
      names = "--stats-port",
      defaultValue = "${env:STATS_PORT:-1000}",
      description = "Stats and Prometheus port (env STATS_PORT; default ${DEFAULT-VALUE}).")
  int statsPort;

  @Option(
      names = "--stats-password",
      defaultValue = "${env:STATS_PASSWORD}",
      description = "Password of user admin on the stats page (env STATS_PASSWORD).")
  String statsPassword;

  @Option(
      names = "--template-dir",
      defaultValue = "${env:TEMPLATE_DIR}",
      description = "Directory with your own haproxy.cfg.ftl (env TEMPLATE_DIR).")
  Path templateDir;

  @Option(
      names = "--hard-stop-after",
      defaultValue = "30s",
      converter = DurationConverter.class,
      description =
          "How long old workers may finish connections after a reload (default ${DEFAULT-VALUE}).")
  Duration hardStopAfter;

  /**
   * The ports HAProxy listens on itself. A TCP service on one of them would share it through
   * SO_REUSEPORT, and the kernel would hand it a part of that port's connections.
   */
  Map<Port, String> reservedPorts() {
    return ParseOptions.ports(httpPort, httpsPort, statsPort);
  }

  HaproxySettings settings() {
    return new HaproxySettings(
        binary,
        stateDir,
        Optional.ofNullable(templateDir),
        bind,
        httpPort,
        httpsPort,
        statsPort,
        Optional.ofNullable(statsPassword).filter(p -> !p.isEmpty()),
        hardStopAfter,
        Duration.ofSeconds(10));
  }
}
