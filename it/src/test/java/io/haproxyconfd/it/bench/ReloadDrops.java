package io.haproxyconfd.it.bench;

import io.etcd.jetcd.Client;
import io.haproxyconfd.adapters.etcd.EtcdCluster;
import io.haproxyconfd.adapters.haproxy.HaproxyConfigurators;
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

/**
 * Requests failed during N reloads under continuous wrk load (50 connections): haproxy-confd's
 * reload beside the seed images' {@code haproxy -D -sf $(cat pid)} restart, measured in the same
 * run, with keep-alive connections and with {@code Connection: close}. Ours twice: the adapter's
 * {@code apply()} called directly, and the whole daemon following structural changes written to
 * etcd (a service added, then deleted).
 *
 * <p>Usage: {@code bench/run reload-drops [reloads]} (default 200).
 */
public final class ReloadDrops {
  public static void main(String[] args) throws Exception {
    int reloads = args.length > 0 ? Integer.parseInt(args[0]) : 200;
    Path dir = Files.createTempDirectory("bench-reload");
    int backendPort = Bench.freePort();
    long backend = Bench.startStaticBackend(dir, backendPort);
    System.out.printf(
        "reload-drops: %d reloads each, wrk -t1 -c50, HAProxy %s%n",
        reloads, Bench.run("haproxy", "-v").lines().findFirst().orElse("?"));
    EtcdCluster etcd = EtcdCluster.of(1);
    etcd.start();
    try (Client client = Client.builder().endpoints(etcd.endpoints()).build()) {
      for (boolean close : new boolean[] {false, true}) {
        String mode = close ? "Connection: close" : "keep-alive";
        Bench.WrkResult seed = seedRestarts(dir, backendPort, reloads, close);
        Bench.WrkResult ours = ourReloads(dir, backendPort, reloads, close);
        Bench.WrkResult daemon = daemonReloads(dir, etcd, client, backendPort, reloads, close);
        print(mode, "seed -sf restart", seed);
        print(mode, "haproxy-confd apply()", ours);
        print(mode, "haproxy-confd daemon", daemon);
        System.out.printf(
            "%-17s ratio of failed requests to seed's: apply() %s, daemon %s%n",
            mode, ratio(ours, seed), ratio(daemon, seed));
      }
    } finally {
      etcd.stop();
      Bench.stop(backend);
    }
  }

  private static void print(String mode, String who, Bench.WrkResult r) {
    System.out.printf(
        "%-17s %-22s %6d failed of %8d (non-2xx %d, connect %d, read %d, write %d, timeout %d)%n",
        mode,
        who + ":",
        r.failed(),
        r.requests(),
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
  private static Bench.WrkResult daemonReloads(
      Path dir, EtcdCluster etcd, Client client, int backendPort, int reloads, boolean close)
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
      Bench.WrkResult result =
          Bench.underLoad(
              daemon.http,
              close,
              () -> {
                try {
                  for (int i = 0; i < reloads; i++) {
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
                  }
                } catch (Exception e) {
                  throw new IllegalStateException(e);
                }
              });
      long done = daemon.metric(counter) - before;
      if (done != reloads) {
        System.out.printf("note: %d changes through etcd made %d reloads%n", reloads, done);
      }
      return result;
    } finally {
      daemon.stop();
    }
  }

  /** Structural changes (a service added, then removed), each one a checked reload. */
  private static Bench.WrkResult ourReloads(Path dir, int backendPort, int reloads, boolean close)
      throws Exception {
    int port = Bench.freePort();
    ProxyConfigurator proxy = Bench.ours(Files.createTempDirectory(dir, "ours"), port);
    try {
      proxy.apply(config(backendPort, false));
      return Bench.underLoad(
          port,
          close,
          () -> {
            try {
              for (int i = 0; i < reloads; i++) {
                ApplyResult r = proxy.apply(config(backendPort, i % 2 == 0));
                if (r.outcome() != ApplyResult.Outcome.RELOADED) {
                  throw new IllegalStateException("expected a reload, got " + r);
                }
              }
            } catch (Exception e) {
              throw new IllegalStateException(e);
            }
          });
    } finally {
      HaproxyConfigurators.stop(proxy);
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

  /** The seed images' way: a daemon HAProxy restarted with -sf, no master-worker. */
  private static Bench.WrkResult seedRestarts(Path dir, int backendPort, int reloads, boolean close)
      throws Exception {
    int port = Bench.freePort();
    Path cfg = dir.resolve("seed.cfg");
    Path pid = dir.resolve("seed.pid");
    Files.writeString(
        cfg,
        "global\n  maxconn 4096\ndefaults\n  mode http\n  timeout client 30s\n  timeout server 30s\n"
            + "  timeout connect 5s\nfrontend f\n  bind 127.0.0.1:"
            + port
            + "\n  default_backend b\n"
            + "backend b\n  server s1 127.0.0.1:"
            + backendPort
            + "\n");
    Bench.run("haproxy", "-D", "-f", cfg.toString(), "-p", pid.toString());
    try {
      return Bench.underLoad(
          port,
          close,
          () -> {
            try {
              for (int i = 0; i < reloads; i++) {
                String old = Files.readString(pid).strip().replace('\n', ' ');
                Bench.run("sh", "-c", "haproxy -D -f " + cfg + " -p " + pid + " -sf " + old);
              }
            } catch (Exception e) {
              throw new IllegalStateException(e);
            }
          });
    } finally {
      for (String p : Files.readString(pid).strip().split("\\s+")) {
        Bench.stop(Long.parseLong(p));
      }
    }
  }
}
