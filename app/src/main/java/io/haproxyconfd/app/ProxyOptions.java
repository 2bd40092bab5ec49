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
      defaultValue = "${env:HARD_STOP_AFTER:-30s}",
      converter = DurationConverter.class,
      description =
          "How long old workers may finish connections after a reload (env HARD_STOP_AFTER;"
              + " default ${DEFAULT-VALUE}).")
  Duration hardStopAfter;

  @Option(
      names = "--check-interval",
      defaultValue = "${env:CHECK_INTERVAL:-5s}",
      converter = DurationConverter.class,
      description =
          "How often HAProxy health-checks each server; a server leaves rotation after 3 failed"
              + " checks and returns after 2 good ones (env CHECK_INTERVAL; default"
              + " ${DEFAULT-VALUE}).")
  Duration checkInterval;

  @Option(
      names = "--spare-backends",
      defaultValue = "${env:SPARE_BACKENDS:-" + HaproxySettings.DEFAULT_SPARE_BACKENDS + "}",
      description =
          "Empty backends each reload prepares: a new service with default settings takes one"
              + " and is served without a reload, under the spare's name"
              + " (spare-N) until the next reload; 0 for none (env SPARE_BACKENDS; default"
              + " ${DEFAULT-VALUE}).")
  int spareBackends;

  enum AccessLogTarget {
    off,
    stdout
  }

  enum AccessLogFormat {
    text,
    json
  }

  @Option(
      names = "--access-log",
      defaultValue = "${env:ACCESS_LOG:-off}",
      description =
          "off, or stdout: one line per HTTP request and TCP connection on the daemon's standard"
              + " output (env ACCESS_LOG; default ${DEFAULT-VALUE}).")
  AccessLogTarget accessLog;

  @Option(
      names = "--access-log-format",
      defaultValue = "${env:ACCESS_LOG_FORMAT:-text}",
      description =
          "text (HAProxy's own format) or json (one object per line) (env ACCESS_LOG_FORMAT;"
              + " default ${DEFAULT-VALUE}).")
  AccessLogFormat accessLogFormat;

  @Option(
      names = "--http2",
      defaultValue = "${env:HTTP2:-true}",
      arity = "1",
      description =
          "Offer HTTP/2 on the TLS listener (ALPN h2,http/1.1) (env HTTP2 or KONTENA_LB_HTTP2;"
              + " default ${DEFAULT-VALUE}).")
  boolean http2;

  @Option(
      names = "--accept-proxy",
      defaultValue = "${env:ACCEPT_PROXY:-false}",
      description =
          "Expect the PROXY protocol on the HTTP, HTTPS and TCP listeners, for a proxy behind an"
              + " L4 load balancer that sends it (env ACCEPT_PROXY or KONTENA_LB_ACCEPT_PROXY).")
  boolean acceptProxy;

  @Option(
      names = "--health-uri",
      defaultValue = "${env:HEALTH_URI:-${env:KONTENA_LB_HEALTH_URI}}",
      description =
          "A path HAProxy answers with 200 itself on the HTTP and HTTPS ports, for the checks of a"
              + " load balancer in front (env HEALTH_URI or KONTENA_LB_HEALTH_URI).")
  String healthUri;

  @Option(
      names = "--cookie-key",
      defaultValue = "${env:COOKIE_KEY}",
      description =
          "Secret that sticky-cookie values are derived from; proxies behind one address must"
              + " share it. Default: one made once and kept in the state directory (env"
              + " COOKIE_KEY).")
  String cookieKey;

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
        Duration.ofSeconds(10),
        new HaproxySettings.Serving(
            checkInterval,
            accessLog == AccessLogTarget.off
                ? HaproxySettings.AccessLog.OFF
                : accessLogFormat == AccessLogFormat.json
                    ? HaproxySettings.AccessLog.JSON
                    : HaproxySettings.AccessLog.TEXT,
            http2 && kontenaHttp2(System.getenv()),
            acceptProxy || kontenaAcceptProxy(System.getenv()),
            Optional.ofNullable(cookieKey).filter(k -> !k.isEmpty()),
            Optional.ofNullable(healthUri).filter(u -> !u.isEmpty())),
        spareBackends);
  }

  /**
   * Kontena's load balancer offered HTTP/2 unless KONTENA_LB_HTTP2 was "false"; HTTP2, when set,
   * decides.
   */
  static boolean kontenaHttp2(Map<String, String> env) {
    return env.containsKey("HTTP2") || !"false".equals(env.get("KONTENA_LB_HTTP2"));
  }

  /**
   * Kontena's load balancer expected the PROXY protocol when KONTENA_LB_ACCEPT_PROXY had any value
   * at all; ACCEPT_PROXY, when set, decides.
   */
  static boolean kontenaAcceptProxy(Map<String, String> env) {
    String v = env.get("KONTENA_LB_ACCEPT_PROXY");
    return !env.containsKey("ACCEPT_PROXY") && v != null && !v.isEmpty();
  }
}
