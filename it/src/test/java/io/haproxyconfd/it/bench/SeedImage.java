package io.haproxyconfd.it.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The seed image as a baseline: its own confd template, rendered for the benchmark's services by
 * {@code bench/seedrender} (Go's text/template with confd's functions, as confd renders it), and
 * HAProxy restarted the way its confd did: {@code haproxy -c -f} (the check command), then {@code
 * haproxy -f cfg -p pid -D -sf $(cat pid)} (the reload command).
 *
 * <p>The seed ran HAProxy 1.6. Its rendered file needs a few changes to run on HAProxy 2.6 on this
 * machine's loopback; each is in {@link #ADAPTATIONS}, printed by the benchmark, and must match the
 * rendered text, so a different template fails loudly instead of being measured half-adapted.
 *
 * <p>The seed finds backends by DNS lookup of the service name, so its services are named by
 * address here ({@code 127.0.0.1} serves the load; {@code 127.0.0.2} is the service added and taken
 * away), which HAProxy resolves without a DNS server.
 */
final class SeedImage {
  /** One change to the rendered file: a regex, its replacement, and why it is needed. */
  record Adaptation(Pattern pattern, String replacement, String why) {
    String apply(String cfg, Object... args) {
      Matcher m = pattern.matcher(cfg);
      if (!m.find()) {
        throw new IllegalStateException("the seed template no longer has: " + pattern);
      }
      return m.replaceAll(String.format(replacement, args));
    }
  }

  static final Adaptation REQADD =
      new Adaptation(
          Pattern.compile("(?m)^(\\s*)reqadd ([^:\\s]+):\\\\ (\\S+) (.*)$"),
          "$1http-request add-header $2 $3 $4",
          "reqadd (removed in HAProxy 2.1) written as http-request add-header");
  static final Adaptation REQREP =
      new Adaptation(
          Pattern.compile(
              "(?m)^(\\s*)reqrep \\^\\(\\[\\^\\\\ :\\]\\*\\)\\\\ (\\S*?)\\[/\\]\\?\\(\\.\\*\\)\\s.*$"),
          "$1http-request replace-path ^$2[/]?(.*) /\\\\1",
          "reqrep of url_beg (removed in HAProxy 2.1) written as http-request replace-path");
  static final Adaptation MAXCONN =
      new Adaptation(
          Pattern.compile("(?m)^\\s*maxconn\\s+100000\\n"),
          "",
          "global maxconn 100000 dropped: it needs 250,020 open files and this machine allows"
              + " 20,000, so HAProxy derives maxconn from the limit, as it does for ours");
  static final Adaptation HTTP_BIND =
      new Adaptation(
          Pattern.compile("bind \\*:80\\b"),
          "bind 127.0.0.1:%d",
          "bind *:80 moved to a free loopback port");
  static final Adaptation STATS_BIND =
      new Adaptation(
          Pattern.compile("bind 0\\.0\\.0\\.0:1000\\b"),
          "bind 127.0.0.1:%d",
          "the stats listener's 0.0.0.0:1000 moved to a free loopback port");
  static final Adaptation PIDFILE =
      new Adaptation(
          Pattern.compile("pidfile /var/run/haproxy\\.pid"),
          "pidfile %s",
          "the pid file moved to the benchmark's directory (the reload command's -p names it too)");
  static final Adaptation USER =
      new Adaptation(
          Pattern.compile("(?m)^\\s*(user|group)\\s+haproxy\\n"),
          "",
          "user and group haproxy dropped when not run as root");

  static final List<Adaptation> ADAPTATIONS =
      List.of(REQADD, REQREP, MAXCONN, HTTP_BIND, STATS_BIND, PIDFILE, USER);

  private final Path template;
  private final Path dir;
  private final int backendPort;

  SeedImage(Path template, Path dir, int backendPort) {
    this.template = template;
    this.dir = dir;
    this.backendPort = backendPort;
  }

  /**
   * {@code reloads} seed restarts under load, one every {@code interval}: each writes the config
   * with the extra service added or taken away, checks it and restarts HAProxy with {@code -sf}.
   */
  ReloadDrops.Line restarts(int reloads, Duration interval, boolean close) throws Exception {
    int port = Bench.freePort();
    int stats = Bench.freePort();
    Path pid = dir.resolve("seed-" + port + ".pid");
    String[] configs = {
      render(false, port, stats, pid), render(true, port, stats, pid),
    };
    Path cfg = dir.resolve("seed-" + port + ".cfg");
    Files.writeString(cfg, configs[0]);
    Bench.run("haproxy", "-D", "-f", cfg.toString(), "-p", pid.toString());
    try {
      return ReloadDrops.underLoad(
          port,
          close,
          reloads,
          interval,
          i -> {
            Files.writeString(cfg, configs[(i + 1) % 2]);
            Bench.run("haproxy", "-c", "-f", cfg.toString());
            Bench.run(
                "sh", "-c", "haproxy -f " + cfg + " -p " + pid + " -D -sf $(cat " + pid + ")");
          });
    } finally {
      for (String p : Files.readString(pid).strip().split("\\s+")) {
        Bench.stop(Long.parseLong(p));
      }
    }
  }

  /** The seed's template rendered for our services, adapted as {@link #ADAPTATIONS} says. */
  String render(boolean extra, int port, int stats, Path pid) throws Exception {
    StringBuilder keys = new StringBuilder();
    keys.append("/services/127.0.0.1/url_beg\t/\n");
    keys.append("/services/127.0.0.1/port\t").append(backendPort).append('\n');
    if (extra) {
      keys.append("/services/127.0.0.2/domain\textra.example.org\n");
      keys.append("/services/127.0.0.2/port\t").append(backendPort).append('\n');
    }
    ProcessBuilder pb =
        new ProcessBuilder("go", "run", "bench/seedrender/main.go", template.toString());
    // The seed's entrypoint took DNS_SERVERS from resolv.conf; HAProxy needs the port spelled out.
    pb.environment().put("DNS_SERVERS", "127.0.0.1:53");
    pb.environment().put("STATS_PASSWORD", "bench");
    Process p = pb.redirectError(ProcessBuilder.Redirect.INHERIT).start();
    p.getOutputStream().write(keys.toString().getBytes(StandardCharsets.UTF_8));
    p.getOutputStream().close();
    String cfg = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IOException("bench/seedrender failed on " + template);
    }
    cfg = REQADD.apply(cfg);
    cfg = REQREP.apply(cfg);
    cfg = MAXCONN.apply(cfg);
    cfg = HTTP_BIND.apply(cfg, port);
    cfg = STATS_BIND.apply(cfg, stats);
    cfg = PIDFILE.apply(cfg, pid);
    if (!"root".equals(System.getProperty("user.name"))) {
      cfg = USER.apply(cfg);
    }
    return cfg;
  }
}
