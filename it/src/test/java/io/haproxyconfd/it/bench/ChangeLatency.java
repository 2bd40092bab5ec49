package io.haproxyconfd.it.bench;

import io.etcd.jetcd.Client;
import io.haproxyconfd.adapters.etcd.EtcdCluster;
import io.haproxyconfd.adapters.haproxy.RawHttp;
import io.haproxyconfd.it.DaemonProcess;
import io.haproxyconfd.it.EtcdWrites;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Change-to-effect latency through the whole product: from a put to etcd to the first request that
 * HAProxy serves accordingly, with the daemon started from its entrypoint, 100 services and
 * backends from agent keys. A backend moved (runtime API, applied at once) and a new service
 * written as two keys, domain then backend (a reload after the quiet period). Changes are 100 ms
 * apart, as an orchestrator's are; an etcd put and a request with nothing changing are timed in the
 * same run as the floor.
 *
 * <p>Usage: {@code bench/run change-latency [trials]} (default 200). {@code -Dwarmup=N} sets the
 * number of backend changes made first (default 500), so that the daemon's JIT is warm.
 */
public final class ChangeLatency {
  static final int SERVICES = 100;
  static final int WARM_UP = Integer.getInteger("warmup", 500);
  static final long SPACING_MS = 100;
  static final String PREFIX = "/haproxy-bench/services/";

  public static void main(String[] args) throws Exception {
    int trials = args.length > 0 ? Integer.parseInt(args[0]) : 200;
    Path dir = Files.createTempDirectory("bench-change");
    int portA = Bench.freePort();
    int portB = Bench.freePort();
    long pidA = Bench.startStaticBackend(dir, portA, "backend=a");
    long pidB = Bench.startStaticBackend(dir, portB, "backend=b");
    String a = "127.0.0.1:" + portA;
    String b = "127.0.0.1:" + portB;
    EtcdCluster etcd = EtcdCluster.of(1);
    etcd.start();
    Client client = Client.builder().endpoints(etcd.endpoints()).build();
    DaemonProcess daemon = null;
    try {
      for (int i = 0; i < SERVICES; i++) {
        EtcdWrites.put(client, PREFIX + "s" + i + "/domain", "s" + i + ".example.org");
        EtcdWrites.put(client, PREFIX + "s" + i + "/w1", a);
      }
      daemon = DaemonProcess.start(Bench.daemonEnv("bench", etcd, dir.resolve("state")));
      int http = daemon.http;
      Bench.untilServed(http, "s0.example.org", "backend=a", System.nanoTime());

      boolean[] onB = new boolean[SERVICES];
      for (int i = 0; i < WARM_UP; i++) {
        moveBackend(client, http, i, onB, a, b);
      }

      long[] put = new long[trials];
      long[] request = new long[trials];
      for (int i = 0; i < trials; i++) {
        long start = System.nanoTime();
        EtcdWrites.put(client, "/bench-elsewhere/k", Integer.toString(i));
        put[i] = System.nanoTime() - start;
        start = System.nanoTime();
        if (RawHttp.get(http, "s0.example.org", "/").status() != 200) {
          throw new IllegalStateException("the baseline request failed");
        }
        request[i] = System.nanoTime() - start;
      }

      long runtimeBefore = daemon.metric("haproxy_confd_applies_total{outcome=\"runtime_update\"}");
      long[] backend = new long[trials];
      for (int i = 0; i < trials; i++) {
        backend[i] = moveBackend(client, http, i, onB, a, b);
      }
      long runtimeUpdates =
          daemon.metric("haproxy_confd_applies_total{outcome=\"runtime_update\"}") - runtimeBefore;

      long reloadsBefore = daemon.metric("haproxy_confd_applies_total{outcome=\"reloaded\"}");
      long[] added = new long[trials];
      for (int i = 0; i < trials; i++) {
        String name = "new" + i;
        long start = System.nanoTime();
        EtcdWrites.put(client, PREFIX + name + "/domain", name + ".example.org");
        EtcdWrites.put(client, PREFIX + name + "/w1", a);
        added[i] = Bench.untilServed(http, name + ".example.org", "backend=a", start);
        Thread.sleep(SPACING_MS); // pacing between changes, not synchronisation
      }
      long reloads =
          daemon.metric("haproxy_confd_applies_total{outcome=\"reloaded\"}") - reloadsBefore;

      System.out.printf(
          "change-latency with %d services, after %d warm-up changes, changes %d ms apart;"
              + " etcd put to first request served:%n",
          SERVICES, WARM_UP, SPACING_MS);
      System.out.println("  floor, an etcd put:             " + Bench.percentiles(put));
      System.out.println("  floor, a request, no change:    " + Bench.percentiles(request));
      System.out.printf(
          "  backend moved (%d runtime updates): %s%n", runtimeUpdates, Bench.percentiles(backend));
      System.out.printf(
          "  service added, 2 keys (%d reloads): %s%n", reloads, Bench.percentiles(added));
      // Not measured: the seed's confd polls, and its Dockerfile sets the interval.
      System.out.println(
          "  seed image, by its configuration (confd -interval $BACKEND_POLLING_INTERVAL, 10 in its"
              + " Dockerfile), not measured: a change waits 0-10 s, mean 5000 ms, p99 9900 ms");
      System.out.printf(
          "  at p99: backend / (put + request) %.1fx; configured seed / backend %.0fx, configured"
              + " seed / service %.0fx%n",
          Bench.quantileMs(backend, 0.99)
              / (Bench.quantileMs(put, 0.99) + Bench.quantileMs(request, 0.99)),
          9900 / Bench.quantileMs(backend, 0.99),
          9900 / Bench.quantileMs(added, 0.99));
    } finally {
      if (daemon != null) {
        daemon.stop();
      }
      client.close();
      etcd.stop();
      Bench.stop(pidA);
      Bench.stop(pidB);
    }
  }

  /**
   * Moves service {@code i % SERVICES} to the other of backends a and b; the nanoseconds until a
   * request is served there.
   */
  private static long moveBackend(Client client, int http, int i, boolean[] onB, String a, String b)
      throws Exception {
    int s = i % SERVICES;
    onB[s] = !onB[s];
    String service = "s" + s;
    String body = onB[s] ? "backend=b" : "backend=a";
    long start = System.nanoTime();
    EtcdWrites.put(client, PREFIX + service + "/w1", onB[s] ? b : a);
    long took = Bench.untilServed(http, service + ".example.org", body, start);
    Thread.sleep(SPACING_MS); // pacing between changes, not synchronisation
    return took;
  }
}
