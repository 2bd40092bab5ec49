package io.haproxyconfd.it.bench;

import io.haproxyconfd.adapters.dns.Dnsmasq;
import io.haproxyconfd.adapters.etcd.EtcdCluster;
import io.haproxyconfd.adapters.haproxy.RawHttp;
import io.haproxyconfd.it.DaemonProcess;
import io.haproxyconfd.it.EtcdWrites;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * DNS discovery at scale: N services whose backends come from dnsmasq (Debian's package, on
 * loopback, answering from a hosts file with the given TTL), the daemon as the seed image runs it
 * ({@code CONFD_RESOLVER=dns}, both A and AAAA; {@code DNS_*} settings in this benchmark's
 * environment are handed on). For each size and TTL:
 *
 * <ul>
 *   <li>start to ready ({@code /readyz}), and whether every sampled service is served then;
 *   <li>a steady state: queries per second as dnsmasq received them (mean, busiest second), the
 *       daemon's DNS timeouts, its CPU and RSS, and its log lines per minute;
 *   <li>five services moved to another address at once: time until each is served there, against
 *       the TTL;
 *   <li>a DNS outage (dnsmasq stopped with SIGSTOP, so queries go unanswered): requests that failed
 *       meanwhile, the daemon's log lines and CPU, and how long until every name answers again
 *       after SIGCONT.
 * </ul>
 *
 * <p>Usage: {@code bench/run dns-scale [sizes...]} (default 1000 3000 10000); {@code
 * -Ddns.ttls=5,60}; {@code -Ddns.steady=SECONDS} the steady state (default 300); {@code
 * -Ddns.outage=SECONDS} (default 30, 0 for none).
 */
public final class DnsScale {
  static final List<Integer> TTLS =
      java.util.Arrays.stream(System.getProperty("dns.ttls", "5,60").split(","))
          .map(String::strip)
          .map(Integer::parseInt)
          .toList();
  static final int STEADY_S = Integer.getInteger("dns.steady", 300);
  static final int OUTAGE_S = Integer.getInteger("dns.outage", 30);
  static final int MOVED = 5;
  static final long SECOND = TimeUnit.SECONDS.toNanos(1);

  public static void main(String[] args) throws Exception {
    List<Integer> sizes = new ArrayList<>();
    for (String a : args) {
      sizes.add(Integer.parseInt(a));
    }
    if (sizes.isEmpty()) {
      sizes = List.of(1_000, 3_000, 10_000);
    }
    Path dir = Files.createTempDirectory("bench-dns");
    int port = Bench.freePort();
    // The same port on two loopback addresses: a DNS change moves a service from one to the other.
    long pidA = Bench.startStaticBackend(dir, "127.0.0.1", port, "backend=a");
    long pidB = Bench.startStaticBackend(dir, "127.0.0.2", port, "backend=b");
    EtcdCluster etcd = EtcdCluster.of(1);
    etcd.start();
    System.out.printf(
        "dns-scale: steady state %d s, outage %d s, %d services moved at once;"
            + " CONFD_RESOLVER=dns%s%n",
        STEADY_S,
        OUTAGE_S,
        MOVED,
        System.getenv().entrySet().stream()
            .filter(e -> e.getKey().startsWith("DNS_"))
            .map(e -> ", " + e.getKey() + "=" + e.getValue())
            .sorted()
            .collect(java.util.stream.Collectors.joining()));
    try {
      for (int size : sizes) {
        writeKeys(etcd, size, port);
        for (int ttl : TTLS) {
          run(size, ttl, etcd, dir.resolve("state-" + size + "-" + ttl));
        }
      }
    } finally {
      etcd.stop();
      Bench.stop(pidA);
      Bench.stop(pidB);
    }
  }

  private static void writeKeys(EtcdCluster etcd, int size, int port) throws Exception {
    List<Map.Entry<String, String>> keys = new ArrayList<>();
    for (int i = 0; i < size; i++) {
      String p = "/haproxy-dns" + size + "/services/svc" + i + "/";
      keys.add(Map.entry(p + "domain", "svc" + i + ".example.org"));
      keys.add(Map.entry(p + "port", Integer.toString(port)));
    }
    EtcdWrites.putAll(etcd.client(), keys, Duration.ofMinutes(5));
  }

  private static List<String> hosts(int size, java.util.Set<Integer> onB) {
    List<String> lines = new ArrayList<>(size);
    for (int i = 0; i < size; i++) {
      lines.add((onB.contains(i) ? "127.0.0.2" : "127.0.0.1") + " svc" + i);
    }
    return lines;
  }

  private static void run(int size, int ttl, EtcdCluster etcd, Path state) throws Exception {
    Dnsmasq dns = Dnsmasq.withTtl(ttl);
    dns.start();
    java.util.Set<Integer> onB = new java.util.HashSet<>();
    dns.hosts(hosts(size, onB).toArray(String[]::new));
    Map<String, String> env = new java.util.HashMap<>();
    env.put("HAPROXY_ID", "dns" + size);
    env.put("ETCD_NODE", etcd.endpoints());
    env.put("CONFD_RESOLVER", "dns");
    env.put("DNS_SERVERS", "127.0.0.1:" + dns.address().getPort());
    env.put("STATE_DIR", state.toString());
    // DNS_RECORDS, DNS_MAX_IN_FLIGHT...: this benchmark's environment goes on to the daemon.
    System.getenv().entrySet().stream()
        .filter(e -> e.getKey().startsWith("DNS_") && !e.getKey().equals("DNS_SERVERS"))
        .forEach(e -> env.put(e.getKey(), e.getValue()));
    String javaOpts = System.getenv("DAEMON_JAVA_OPTS");
    if (javaOpts != null) {
      env.put("JAVA_OPTS", javaOpts);
    }
    long t0 = System.nanoTime();
    DaemonProcess d = DaemonProcess.launch(env);
    try {
      long deadline = t0 + TimeUnit.MINUTES.toNanos(5);
      while (!ready(d)) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("not ready in 5 min: " + d.describe());
        }
        LockSupport.parkNanos(SECOND / 50);
      }
      double startS = (System.nanoTime() - t0) / 1e9;
      int sampled = 0;
      int servedAtReady = 0;
      for (int i = 0; i < size; i += Math.max(1, size / 100)) {
        sampled++;
        servedAtReady += body(d, "svc" + i + ".example.org").equals("backend=a") ? 1 : 0;
      }

      // steady state
      long pid = d.pid();
      long ticks0 = Scale.cpuTicks(pid);
      long lines0 = lines(d);
      long timeouts0 = d.metric("haproxy_confd_dns_timeouts_total");
      long s0 = System.nanoTime();
      LockSupport.parkNanos(STEADY_S * SECOND); // the measurement window itself
      long s1 = System.nanoTime();
      double window = (s1 - s0) / 1e9;
      double cpu = 100.0 * (Scale.cpuTicks(pid) - ticks0) / 100.0 / window;
      long timeouts = d.metric("haproxy_confd_dns_timeouts_total") - timeouts0;
      double linesPerMin = (lines(d) - lines0) * 60.0 / window;
      int[] perSecond = perSecond(dns.queries(), s0, s1);
      double mean = java.util.Arrays.stream(perSecond).average().orElse(0);
      int busiest = java.util.Arrays.stream(perSecond).max().orElse(0);
      double rss = Scale.rssMb(pid);
      double peak = Scale.peakRssMb(pid);

      // five services moved at once
      Random random = new Random(size * 31L + ttl);
      List<Integer> moved = new ArrayList<>();
      while (moved.size() < MOVED) {
        int k = random.nextInt(size);
        if (onB.add(k)) {
          moved.add(k);
        }
      }
      long m0 = System.nanoTime();
      dns.hosts(hosts(size, onB).toArray(String[]::new));
      long[] latencies = new long[MOVED];
      long moveDeadline = m0 + (ttl + 30L) * SECOND;
      int left = MOVED;
      while (left > 0 && System.nanoTime() < moveDeadline) {
        for (int j = 0; j < MOVED; j++) {
          if (latencies[j] == 0
              && body(d, "svc" + moved.get(j) + ".example.org").equals("backend=b")) {
            latencies[j] = System.nanoTime() - m0;
            left--;
          }
        }
        LockSupport.parkNanos(SECOND / 100);
      }

      String outage = OUTAGE_S > 0 ? outage(d, dns, size, onB) : "not measured";
      System.out.printf(
          "%,d services, TTL %d s: ready in %.1f s (%d of %d sampled services served then);"
              + " steady %d s: queries/s mean %.0f, busiest second %d (%.2fx the mean),"
              + " DNS timeouts %d, daemon CPU %.1f %% of a core, RSS %.0f MB (peak %.0f MB),"
              + " log lines %.1f/min; %d moved at once: served at the new address after %s"
              + " (TTL %d s); outage: %s%n",
          size,
          ttl,
          startS,
          servedAtReady,
          sampled,
          STEADY_S,
          mean,
          busiest,
          mean == 0 ? 0 : busiest / mean,
          timeouts,
          cpu,
          rss,
          peak,
          linesPerMin,
          MOVED,
          left > 0 ? left + " not within TTL + 30 s" : Bench.percentiles(latencies),
          ttl,
          outage);
    } finally {
      d.stop();
      dns.stop();
    }
  }

  /** DNS unanswered for OUTAGE_S seconds under a stream of requests; then until all answer. */
  private static String outage(DaemonProcess d, Dnsmasq dns, int size, java.util.Set<Integer> onB)
      throws Exception {
    long pid = d.pid();
    long ticks0 = Scale.cpuTicks(pid);
    long lines0 = lines(d);
    Bench.run("kill", "-STOP", Long.toString(dns.pid()));
    long o0 = System.nanoTime();
    long requests = 0;
    long failed = 0;
    Random random = new Random(7);
    try {
      while (System.nanoTime() - o0 < OUTAGE_S * SECOND) {
        int k = random.nextInt(size);
        String expected = onB.contains(k) ? "backend=b" : "backend=a";
        requests++;
        if (!body(d, "svc" + k + ".example.org").equals(expected)) {
          failed++;
        }
        LockSupport.parkNanos(SECOND / 200); // a steady stream, ~200 requests a second
      }
    } finally {
      Bench.run("kill", "-CONT", Long.toString(dns.pid()));
    }
    double window = (System.nanoTime() - o0) / 1e9;
    double cpu = 100.0 * (Scale.cpuTicks(pid) - ticks0) / 100.0 / window;
    long lines = lines(d) - lines0;
    long c0 = System.nanoTime();
    long deadline = c0 + 120 * SECOND;
    while (d.metric("haproxy_confd_dns_names_failing") > 0 && System.nanoTime() < deadline) {
      LockSupport.parkNanos(SECOND / 10);
    }
    long failing = d.metric("haproxy_confd_dns_names_failing");
    return String.format(
        "%d s: %d of %d requests failed, %d log lines, daemon CPU %.1f %% of a core;"
            + " every name answered %.1f s after DNS came back%s",
        OUTAGE_S,
        failed,
        requests,
        lines,
        cpu,
        (System.nanoTime() - c0) / 1e9,
        failing > 0 ? " (" + failing + " still failing after 120 s)" : "");
  }

  private static boolean ready(DaemonProcess d) {
    try {
      return d.get("/readyz").statusCode() == 200;
    } catch (Exception e) {
      return false;
    }
  }

  private static String body(DaemonProcess d, String host) {
    try {
      RawHttp.Response r = RawHttp.get(d.http, host, "/");
      return r.status() == 200 ? r.body() : Integer.toString(r.status());
    } catch (Exception e) {
      return e.getClass().getSimpleName();
    }
  }

  /** Queries received in each whole second of [from, to). */
  private static int[] perSecond(List<Dnsmasq.Query> queries, long from, long to) {
    int[] counts = new int[(int) ((to - from) / SECOND)];
    for (Dnsmasq.Query q : queries) {
      long at = q.nanos() - from;
      if (at >= 0 && at / SECOND < counts.length) {
        counts[(int) (at / SECOND)]++;
      }
    }
    return counts;
  }

  /** Lines the daemon has logged so far (its standard error). */
  private static long lines(DaemonProcess d) throws Exception {
    try (var s = Files.lines(d.log)) {
      return s.count();
    }
  }
}
