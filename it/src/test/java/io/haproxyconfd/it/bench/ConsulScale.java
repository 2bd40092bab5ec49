package io.haproxyconfd.it.bench;

import io.etcd.jetcd.Client;
import io.haproxyconfd.adapters.etcd.EtcdCluster;
import io.haproxyconfd.adapters.haproxy.RawHttp;
import io.haproxyconfd.it.DaemonProcess;
import io.haproxyconfd.it.EtcdWrites;
import io.haproxyconfd.it.consul.ConsulEmulator;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * The daemon on Consul at scale, beside the same daemon on etcd in the same run: N services, each
 * one instance (Consul's catalog) or one agent key (etcd), on one of two static backends. For each
 * store: start to every service served, an instance moved to the first request served there (p50,
 * p99), and the connections to the store and threads the daemon holds. On Consul a move is what a
 * deploy does: the new instance registered with its check, the old one removed; on etcd the agent
 * key is rewritten. Consul is the emulator in this JVM (there is no Consul package here), so its
 * own speed is part of the Consul figures.
 *
 * <p>Usage: {@code bench/run consul-scale [sizes...]} (default 1000 5000); {@code -Dtrials=N}
 * changes per store and size (default 50), 100 ms apart.
 */
public final class ConsulScale {
  static final int TRIALS = Integer.getInteger("trials", 50);
  static final long SPACING_MS = 100;

  /** What one store's run measured. */
  record Figures(long startMs, long[] moves, int connections, int threads) {}

  public static void main(String[] args) throws Exception {
    List<Integer> sizes = new ArrayList<>();
    for (String a : args) {
      sizes.add(Integer.parseInt(a));
    }
    if (sizes.isEmpty()) {
      sizes = List.of(1_000, 5_000);
    }
    Path dir = Files.createTempDirectory("bench-consul");
    int portA = Bench.freePort();
    int portB = Bench.freePort();
    long pidA = Bench.startStaticBackend(dir, portA, "backend=a");
    long pidB = Bench.startStaticBackend(dir, portB, "backend=b");
    try {
      for (int size : sizes) {
        Figures consul = consul(size, portA, portB, dir.resolve("consul-" + size));
        Figures etcd = etcd(size, portA, portB, dir.resolve("etcd-" + size));
        System.out.printf(
            "consul-scale, %d services, %d moves %d ms apart:%n", size, TRIALS, SPACING_MS);
        print("consul", consul);
        print("etcd  ", etcd);
        System.out.printf(
            "  consul / etcd: start %.2fx, move p50 %.2fx, p99 %.2fx%n",
            (double) consul.startMs() / etcd.startMs(),
            Bench.quantileMs(consul.moves(), 0.5) / Bench.quantileMs(etcd.moves(), 0.5),
            Bench.quantileMs(consul.moves(), 0.99) / Bench.quantileMs(etcd.moves(), 0.99));
      }
    } finally {
      Bench.stop(pidA);
      Bench.stop(pidB);
    }
  }

  private static void print(String store, Figures f) {
    System.out.printf(
        "  %s: start to all served %.1f s; instance moved to first request: %s;"
            + " connections to the store %d, daemon threads %d%n",
        store, f.startMs() / 1000.0, Bench.percentiles(f.moves()), f.connections(), f.threads());
  }

  private static Figures consul(int size, int portA, int portB, Path state) throws Exception {
    try (ConsulEmulator consul = ConsulEmulator.start(Optional.empty())) {
      for (int i = 0; i < size; i++) {
        consul.put("haproxy-bench/services/s" + i + "/domain", "s" + i + ".example.org");
        consul.register(
            "s" + i, new ConsulEmulator.Instance("s" + i + "-1", "127.0.0.1", portA, true));
      }
      Map<String, String> env = env(state);
      env.put("CONFD_STORE", "consul");
      env.put("CONFD_RESOLVER", "consul");
      env.put("CONSUL_HTTP_ADDR", consul.address());
      // A deploy's move: the new instance registered with its check, the old one removed.
      int[] generation = new int[size];
      return run(
          size,
          env,
          consul.port(),
          (k, toB) -> {
            String old = "s" + k + "-" + (generation[k] == 0 ? "1" : "g" + generation[k]);
            generation[k]++;
            consul.register(
                "s" + k,
                new ConsulEmulator.Instance(
                    "s" + k + "-g" + generation[k], "127.0.0.1", toB ? portB : portA, true));
            consul.deregister("s" + k, old);
          });
    }
  }

  private static Figures etcd(int size, int portA, int portB, Path state) throws Exception {
    EtcdCluster etcd = EtcdCluster.of(1);
    etcd.start();
    try (Client client = Client.builder().endpoints(etcd.endpoints()).build()) {
      String prefix = "/haproxy-bench/services/";
      for (int i = 0; i < size; i++) {
        EtcdWrites.put(client, prefix + "s" + i + "/domain", "s" + i + ".example.org");
        EtcdWrites.put(client, prefix + "s" + i + "/w1", "127.0.0.1:" + portA);
      }
      Map<String, String> env = env(state);
      env.put("ETCD_NODE", etcd.endpoints());
      env.put("CONFD_RESOLVER", "keys");
      int port = Integer.parseInt(etcd.endpoints().split(",")[0].replaceAll(".*:", ""));
      return run(
          size,
          env,
          port,
          (k, toB) ->
              EtcdWrites.put(
                  client, prefix + "s" + k + "/w1", "127.0.0.1:" + (toB ? portB : portA)));
    } finally {
      etcd.stop();
    }
  }

  private static Map<String, String> env(Path state) {
    Map<String, String> env = new java.util.HashMap<>();
    env.put("HAPROXY_ID", "bench");
    env.put("STATE_DIR", state.toString());
    String javaOpts = System.getenv("DAEMON_JAVA_OPTS");
    if (javaOpts != null) {
      env.put("JAVA_OPTS", javaOpts);
    }
    return env;
  }

  @FunctionalInterface
  interface Move {
    void to(int service, boolean toB) throws Exception;
  }

  private static Figures run(int size, Map<String, String> env, int storePort, Move move)
      throws Exception {
    long start = System.nanoTime();
    DaemonProcess d = DaemonProcess.launch(env);
    try {
      long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
      for (int i = 0; i < size; i += Math.max(1, size / 20)) {
        while (!served(d.http, "s" + i + ".example.org", "backend=a")) {
          if (System.nanoTime() > deadline) {
            throw new IllegalStateException("not served in 5 min: s" + i + "; " + d.describe());
          }
          Thread.sleep(20); // polling the product from outside; each try is a request
        }
      }
      while (!served(d.http, "s" + (size - 1) + ".example.org", "backend=a")) {
        Thread.sleep(20);
      }
      long startMs = (System.nanoTime() - start) / 1_000_000;
      long[] moves = new long[TRIALS];
      java.util.Random random = new java.util.Random(42);
      boolean[] onB = new boolean[size];
      for (int t = 0; t < TRIALS; t++) {
        int k = random.nextInt(size);
        onB[k] = !onB[k];
        long t0 = System.nanoTime();
        move.to(k, onB[k]);
        moves[t] =
            Bench.untilServed(
                d.http, "s" + k + ".example.org", onB[k] ? "backend=b" : "backend=a", t0);
        Thread.sleep(SPACING_MS); // pacing between changes, not synchronisation
      }
      return new Figures(startMs, moves, connections(d.pid(), storePort), threads(d.pid()));
    } finally {
      d.stop();
    }
  }

  private static boolean served(int port, String host, String body) {
    try {
      return RawHttp.get(port, host, "/").body().startsWith(body);
    } catch (Exception e) {
      return false;
    }
  }

  static int connections(long pid, int port) throws Exception {
    String out = Bench.run("ss", "-Htnp", "state", "established", "( dport = :" + port + " )");
    return (int) out.lines().filter(l -> l.contains("pid=" + pid + ",")).count();
  }

  static int threads(long pid) throws Exception {
    for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
      if (line.startsWith("Threads:")) {
        return Integer.parseInt(line.substring("Threads:".length()).strip());
      }
    }
    return -1;
  }
}
