package io.haproxyconfd.it.bench;

import io.etcd.jetcd.Client;
import io.haproxyconfd.adapters.etcd.EtcdCluster;
import io.haproxyconfd.domain.Await;
import io.haproxyconfd.domain.Keys;
import io.haproxyconfd.domain.ParseOptions;
import io.haproxyconfd.domain.ProxyConfig;
import io.haproxyconfd.it.DaemonProcess;
import io.haproxyconfd.it.EtcdWrites;
import io.haproxyconfd.ports.ApplyResult;
import io.haproxyconfd.ports.ProxyConfigurator;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.locks.LockSupport;

/**
 * Requests failed during N reloads under continuous wrk load (50 connections), with keep-alive
 * connections and with {@code Connection: close}. Three lines, measured in the same run, each doing
 * the same number of reloads at the same pace (one every {@code interval}), so that each line runs
 * as long as the others and its failures divide by the same count:
 *
 * <ul>
 *   <li>the seed image: its own confd template ({@code haproxy.tmpl}), rendered the way confd
 *       renders it ({@code bench/seedrender}) for the same two services, checked with {@code
 *       haproxy -c} and restarted with {@code haproxy -D -sf $(cat pid)}, as its confd did;
 *   <li>haproxy-confd's adapter, {@code apply()} called directly;
 *   <li>the whole daemon, following structural changes written to etcd.
 * </ul>
 *
 * <p>Each step adds a service ({@code extra.example.org}) or takes it away again; the load goes to
 * the other service, routed by the path prefix {@code /}.
 *
 * <p>Usage: {@code bench/run reload-drops [reloads] [interval-ms] [seed-template]} (default 100
 * reloads, 300 ms apart; the template defaults to the seed image's, where this checkout has it).
 */
public final class ReloadDrops {
  static final String SEED_TEMPLATE =
      "../shared/seeds/ventures-haproxy-confd-head/confd/templates/haproxy.tmpl";

  public static void main(String[] args) throws Exception {
    int reloads = args.length > 0 ? Integer.parseInt(args[0]) : 100;
    Duration interval = Duration.ofMillis(args.length > 1 ? Long.parseLong(args[1]) : 300);
    Path template = Path.of(args.length > 2 ? args[2] : SEED_TEMPLATE);
    if (!Files.isReadable(template)) {
      throw new IllegalArgumentException(
          "no seed template at "
              + template
              + ": give the seed image's haproxy.tmpl as the third"
              + " argument");
    }
    Path dir = Files.createTempDirectory("bench-reload");
    int backendPort = Bench.freePort();
    long backend = Bench.startStaticBackend(dir, backendPort);
    SeedImage seed = new SeedImage(template, dir, backendPort);
    System.out.printf(
        "reload-drops: %d reloads each, one every %d ms, wrk -t1 -c50, HAProxy %s%n",
        reloads, interval.toMillis(), Bench.run("haproxy", "-v").lines().findFirst().orElse("?"));
    System.out.printf(
        "seed line: %s rendered as confd does, then adapted to HAProxy 2.6 and this machine:%n",
        template.getFileName());
    SeedImage.ADAPTATIONS.forEach(a -> System.out.println("  - " + a.why()));
    EtcdCluster etcd = EtcdCluster.of(1);
    etcd.start();
    try (Client client = Client.builder().endpoints(etcd.endpoints()).build()) {
      for (boolean close : new boolean[] {false, true}) {
        String mode = close ? "Connection: close" : "keep-alive";
        Line seedLine = seed.restarts(reloads, interval, close);
        Line ours = ourReloads(dir, backendPort, reloads, interval, close);
        Line daemon = daemonReloads(dir, etcd, client, backendPort, reloads, interval, close);
        print(mode, "seed -sf restart", seedLine, reloads);
        print(mode, "haproxy-confd apply()", ours, reloads);
        print(mode, "haproxy-confd daemon", daemon, reloads);
        System.out.printf(
            "%-17s ratio of failed requests to seed's: apply() %s, daemon %s%n",
            mode, ratio(ours.wrk(), seedLine.wrk()), ratio(daemon.wrk(), seedLine.wrk()));
      }
    } finally {
      etcd.stop();
      Bench.stop(backend);
    }
  }

  /** What wrk counted, and how long the reloads took (the pace, unless a reload ran late). */
  record Line(Bench.WrkResult wrk, Duration reloads) {}

  /**
   * Runs {@code step} {@code count} times, step i at {@code interval * i} from the start (at once
   * when the step before ran late); the time from the first step's start to the last's end.
   */
  static Duration paced(int count, Duration interval, IntStep step) throws Exception {
    long start = System.nanoTime();
    for (int i = 0; i < count; i++) {
      long due = start + interval.toNanos() * i;
      long wait = due - System.nanoTime();
      if (wait > 0) {
        LockSupport.parkNanos(wait); // pacing: the schedule, not a wait for a condition
      }
      step.run(i);
    }
    return Duration.ofNanos(System.nanoTime() - start);
  }

  interface IntStep {
    void run(int i) throws Exception;
  }

  /** Runs the paced steps under wrk's load; a step's failure ends the line. */
  static Line underLoad(int port, boolean close, int count, Duration interval, IntStep step)
      throws Exception {
    Duration[] took = new Duration[1];
    Bench.WrkResult wrk =
        Bench.underLoad(
            port,
            close,
            () -> {
              try {
                took[0] = paced(count, interval, step);
              } catch (Exception e) {
                throw new IllegalStateException(e);
              }
            });
    return new Line(wrk, took[0]);
  }

  private static void print(String mode, String who, Line line, int reloads) {
    Bench.WrkResult r = line.wrk();
    System.out.printf(
        "%-17s %-22s %6d failed of %8d, %.2f per reload, %d reloads in %.1f s (non-2xx %d,"
            + " connect %d, read %d, write %d, timeout %d)%n",
        mode,
        who + ":",
        r.failed(),
        r.requests(),
        (double) r.failed() / reloads,
        reloads,
        line.reloads().toMillis() / 1000.0,
        r.non2xx(),
        r.connect(),
        r.read(),
        r.write(),
        r.timeout());
  }

  private static String ratio(Bench.WrkResult ours, Bench.WrkResult seed) {
    return seed.failed() == 0
        ? "n/a (seed failed none)"
        : String.format("%.4f", (double) ours.failed() / seed.failed());
  }

  /**
   * The daemon following etcd: a service added (two keys) or deleted (one prefix delete), each
   * change waited for until the daemon has reloaded for it.
   */
  private static Line daemonReloads(
      Path dir,
      EtcdCluster etcd,
      Client client,
      int backendPort,
      int reloads,
      Duration interval,
      boolean close)
      throws Exception {
    String id = close ? "drops-close" : "drops-keepalive";
    String services = "/haproxy-" + id + "/services/";
    String backend = "127.0.0.1:" + backendPort;
    EtcdWrites.put(client, services + "load/url_beg", "/");
    EtcdWrites.put(client, services + "load/w1", backend);
    DaemonProcess daemon =
        DaemonProcess.start(Bench.daemonEnv(id, etcd, Files.createTempDirectory(dir, "daemon")));
    try {
      String counter = "haproxy_confd_applies_total{outcome=\"reloaded\"}";
      long before = daemon.metric(counter);
      Line line =
          underLoad(
              daemon.http,
              close,
              reloads,
              interval,
              i -> {
                if (i % 2 == 0) {
                  EtcdWrites.put(client, services + "extra/domain", "extra.example.org");
                  EtcdWrites.put(client, services + "extra/w1", backend);
                } else {
                  EtcdWrites.deletePrefix(client, services + "extra/");
                }
                long wanted = before + i + 1;
                Await.until(
                    Duration.ofSeconds(10),
                    daemon::describe,
                    () -> daemon.metric(counter) >= wanted);
              });
      long done = daemon.metric(counter) - before;
      if (done != reloads) {
        System.out.printf("note: %d changes through etcd made %d reloads%n", reloads, done);
      }
      return line;
    } finally {
      daemon.stop();
    }
  }

  /** Structural changes (a service added, then removed), each one a checked reload. */
  private static Line ourReloads(
      Path dir, int backendPort, int reloads, Duration interval, boolean close) throws Exception {
    int port = Bench.freePort();
    ProxyConfigurator proxy = Bench.ours(Files.createTempDirectory(dir, "ours"), port);
    try {
      proxy.apply(config(backendPort, false));
      return underLoad(
          port,
          close,
          reloads,
          interval,
          i -> {
            ApplyResult r = proxy.apply(config(backendPort, i % 2 == 0));
            if (r.outcome() != ApplyResult.Outcome.RELOADED) {
              throw new IllegalStateException("expected a reload, got " + r);
            }
          });
    } finally {
      proxy.stop();
    }
  }

  /** Any Host reaches the backend; {@code extra} adds a second service, which needs a reload. */
  static ProxyConfig config(int backendPort, boolean extra) {
    Keys keys =
        Keys.of("services/load/url_beg", "/", "services/load/b1", "127.0.0.1:" + backendPort);
    if (extra) {
      keys.put(
          "services/extra/domain",
          "extra.example.org",
          "services/extra/b1",
          "127.0.0.1:" + backendPort);
    }
    return keys.parse(Keys.DNS.withDiscovery(ParseOptions.Discovery.KEYS)).config();
  }
}
