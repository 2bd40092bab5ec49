package io.haproxyconfd.it.bench;

import io.etcd.jetcd.Client;
import io.haproxyconfd.adapters.etcd.EtcdCluster;
import io.haproxyconfd.domain.Await;
import io.haproxyconfd.it.DaemonProcess;
import io.haproxyconfd.it.EtcdWrites;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * How the daemon grows with the number of services: for each size, that many HTTP services plus a
 * tenth as many TCP services written to etcd, then the daemon started from its entrypoint.
 * Measured: start to first applied config and to the last host served; etcd put to first request
 * served for a backend moved and a host added to a service, and for a wildcard host, a path prefix
 * taken off and a regex changed ({@link #FAST_TRIALS} each, median and p99, and whether any of the
 * latter reloaded), for a new service with default settings, served from a spare backend ({@link
 * #SPARE_TRIALS}, median and p99, and whether any reloaded), and for a new service with a setting
 * of its own, a reload ({@link #RELOAD_TRIALS}, median and maximum); the daemon's heap after a full
 * GC and its RSS, and HAProxy's RSS; the daemon's CPU while idle; requests/s through HAProxy for
 * the first and the last host. Prints a table and writes {@code bench/scale.dat} and {@code
 * bench/scale.png} (gnuplot).
 *
 * <p>Then, at the largest size, what health checks cost: the daemon restarted on the same keys with
 * each check interval in {@link #CHECK_INTERVALS}, and HAProxy's CPU (master and workers) while no
 * request flows, three windows of 10 s each. An interval of 1 h is the baseline: no check is due in
 * the window, so it is HAProxy idle with checks practically off, in the same run.
 *
 * <p>Usage: {@code bench/run scale [sizes...]} (default 100 1000 3000 10000: the first is the
 * baseline the others are set against).
 */
public final class Scale {
  static final int TCP = 1000;

  /** TCP services beside {@code http} HTTP services: a tenth as many, at most {@link #TCP}. */
  static int tcp(int http) {
    return Math.min(TCP, Math.max(1, http / 10));
  }

  /** Changes of a backend, and of a route, measured at each size: enough for a p99. */
  static final int FAST_TRIALS = 100;

  static final int TRIALS = 5;

  /** New services with default settings, each taken into a spare: within the 32 spares. */
  static final int SPARE_TRIALS = 30;

  /** New services with a setting of their own: a reload each. */
  static final int RELOAD_TRIALS = 10;

  static final List<String> CHECK_INTERVALS = List.of("1h", "10s", "5s", "2s", "1s");

  record Row(
      int http,
      long readyMs,
      long lastHostMs,
      double spareMs,
      double spareP99Ms,
      int spareReloads,
      double structuralMs,
      double structuralMaxMs,
      double aloneReloadMs,
      double aloneReloadMaxMs,
      double backendMs,
      double backendP99Ms,
      double routeMs,
      double routeP99Ms,
      double firstBackendMs,
      double firstRouteMs,
      double cpuMsPerChange,
      double heapMb,
      double rssMb,
      double peakRssMb,
      double haproxyRssMb,
      double idleCpuPercent,
      double firstRps,
      double lastRps,
      double wildcardMs,
      double wildcardP99Ms,
      double prefixMs,
      double prefixP99Ms,
      double regexMs,
      double regexP99Ms,
      int routeKindReloads) {}

  public static void main(String[] args) throws Exception {
    // "checks" first: only what health checks cost, at the size given.
    if (args.length > 0 && args[0].equals("start")) {
      start(
          args.length > 1 ? Integer.parseInt(args[1]) : 10_000,
          args.length > 2 ? Integer.parseInt(args[2]) : 5);
      return;
    }
    if (args.length > 0 && args[0].equals("page")) {
      page(
          args.length > 1 ? Integer.parseInt(args[1]) : 10_000,
          args.length > 2 ? Integer.parseInt(args[2]) : 3);
      return;
    }
    if (args.length > 0 && args[0].equals("memory")) {
      memory(
          args.length > 1 ? Integer.parseInt(args[1]) : 10_000,
          args.length > 2 ? Integer.parseInt(args[2]) : 3);
      return;
    }
    boolean checksOnly = args.length > 0 && args[0].equals("checks");
    String[] rest = checksOnly ? Arrays.copyOfRange(args, 1, args.length) : args;
    int[] sizes =
        rest.length > 0
            ? Arrays.stream(rest).mapToInt(Integer::parseInt).toArray()
            : new int[] {100, 1000, 3000, 10000};
    Path dir = Files.createTempDirectory("bench-scale");
    int portA = Bench.freePort();
    int portB = Bench.freePort();
    long pidA = Bench.startStaticBackend(dir, portA, "backend=a");
    long pidB = Bench.startStaticBackend(dir, portB, "backend=b");
    EtcdCluster etcd = EtcdCluster.of(1);
    etcd.start();
    List<Row> rows = new ArrayList<>();
    List<String> checks = new ArrayList<>();
    try (Client client = Client.builder().endpoints(etcd.endpoints()).build()) {
      for (int size : sizes) {
        if (checksOnly) {
          writeKeys(client, size, "127.0.0.1:" + portA);
        } else {
          rows.add(measure(dir, etcd, client, size, "127.0.0.1:" + portA, "127.0.0.1:" + portB));
        }
      }
      if (!rows.isEmpty()) {
        print(rows);
        chart(rows);
      }
      int largest = sizes[sizes.length - 1];
      // BENCH_JAVA_OPTS=-Dscale.checks=false: the changes only, for a quicker series of runs.
      List<String> intervals =
          Boolean.parseBoolean(System.getProperty("scale.checks", "true"))
              ? CHECK_INTERVALS
              : List.of();
      for (String interval : intervals) {
        checks.add(checkCost(dir, etcd, largest, interval));
      }
    } finally {
      etcd.stop();
      Bench.stop(pidA);
      Bench.stop(pidB);
    }
    if (checks.isEmpty()) {
      return;
    }
    System.out.printf(
        "health checks at %d HTTP (+%d TCP) services, one filled server each: HAProxy's CPU with"
            + " no traffic, %% of one core, 3 windows of 10 s (min / median / max)%n",
        sizes[sizes.length - 1], tcp(sizes[sizes.length - 1]));
    checks.forEach(System.out::println);
  }

  static final long MEMORY_LIMIT = 256L * 1024 * 1024;

  /**
   * The daemon at {@code size} services under a cgroup (v1) memory limit of 256 MB, {@code runs}
   * times, each from a fresh state directory: start, then 5 backend and 5 structural changes.
   * HAProxy starts inside the cgroup (the daemon forks it) and is moved, with its memory, to a
   * cgroup of its own once it serves, so that the limit then holds for the daemon alone. Reports
   * the daemon's peak RSS over the whole run ({@code VmHWM}, start included), the cgroup's peak
   * after HAProxy left, OOM kills, and whether the daemon still served at the end.
   */
  private static void memory(int size, int runs) throws Exception {
    Path root = Path.of("/sys/fs/cgroup/memory");
    if (!Files.isWritable(root)) {
      throw new IllegalStateException("needs root and cgroup v1's memory controller at " + root);
    }
    Path dir = Files.createTempDirectory("bench-memory");
    int portA = Bench.freePort();
    int portB = Bench.freePort();
    long pidA = Bench.startStaticBackend(dir, portA, "backend=a");
    long pidB = Bench.startStaticBackend(dir, portB, "backend=b");
    String a = "127.0.0.1:" + portA;
    String b = "127.0.0.1:" + portB;
    EtcdCluster etcd = EtcdCluster.of(1);
    etcd.start();
    List<String> lines = new ArrayList<>();
    double[] peaks = new double[runs];
    try (Client client = Client.builder().endpoints(etcd.endpoints()).build()) {
      writeKeys(client, size, a);
      String prefix = "/haproxy-scale" + size + "/";
      for (int run = 0; run < runs; run++) {
        Path daemonGroup = root.resolve("bench-confd-" + ProcessHandle.current().pid() + "-" + run);
        Path haproxyGroup = root.resolve(daemonGroup.getFileName() + "-haproxy");
        Files.createDirectory(daemonGroup);
        Files.createDirectory(haproxyGroup);
        Files.writeString(
            daemonGroup.resolve("memory.limit_in_bytes"), Long.toString(MEMORY_LIMIT));
        // HAProxy (and each haproxy -c) puts itself in a cgroup of its own before it runs.
        Path wrapper = dir.resolve("haproxy-" + run);
        Files.writeString(
            wrapper,
            "#!/bin/sh\necho $$ > "
                + haproxyGroup.resolve("cgroup.procs")
                + "\nexec "
                + Bench.run("sh", "-c", "command -v haproxy").strip()
                + " \"$@\"\n");
        wrapper.toFile().setExecutable(true);
        Map<String, String> env =
            new java.util.HashMap<>(
                Bench.daemonEnv("scale" + size, etcd, dir.resolve("state-memory-" + run)));
        env.put("TEST_CGROUP", daemonGroup.toString());
        env.put("HAPROXY_BIN", wrapper.toString());
        DaemonProcess d = DaemonProcess.launch(env);
        try {
          long start = System.nanoTime();
          Await.until(
              Duration.ofMinutes(5), d::describe, () -> d.get("/readyz").statusCode() == 200);
          String last = "s" + (size - 1) + ".example.org";
          served(d, last, "backend="); // a or b: the keys may hold either from an earlier run
          long readyMs = (System.nanoTime() - start) / 1_000_000;
          for (int t = 0; t < TRIALS; t++) {
            EtcdWrites.put(client, prefix + "services/s" + (size - 1) + "/w1", t % 2 == 0 ? b : a);
            served(d, last, t % 2 == 0 ? "backend=b" : "backend=a");
            EtcdWrites.put(
                client,
                prefix + "services/mem" + run + "x" + t + "/domain",
                "mem" + run + "x" + t + ".example.org");
            EtcdWrites.put(client, prefix + "services/mem" + run + "x" + t + "/w1", a);
            served(d, "mem" + run + "x" + t + ".example.org", "backend=a");
          }
          boolean alive = ProcessHandle.of(d.pid()).map(ProcessHandle::isAlive).orElse(false);
          double hwm = statusMb(d.pid(), "VmHWM:");
          double rss = statusMb(d.pid(), "VmRSS:");
          long groupPeak =
              Long.parseLong(
                  Files.readString(daemonGroup.resolve("memory.max_usage_in_bytes")).strip());
          String oom =
              Files.readString(daemonGroup.resolve("memory.oom_control"))
                  .lines()
                  .filter(l -> l.startsWith("oom_kill "))
                  .findFirst()
                  .orElse("oom_kill ?");
          peaks[run] = hwm;
          lines.add(
              String.format(
                  "  run %d: served after %d ms; daemon peak RSS (VmHWM) %.1f MB, RSS at the end"
                      + " %.1f MB; cgroup peak %.1f MB; %s; alive at the end: %s",
                  run + 1, readyMs, hwm, rss, groupPeak / 1048576.0, oom, alive));
        } finally {
          d.stop();
          for (Path g : List.of(haproxyGroup, daemonGroup)) {
            for (String pid : Files.readString(g.resolve("cgroup.procs")).split("\\s+")) {
              if (!pid.isBlank()) {
                Files.writeString(root.resolve("cgroup.procs"), pid);
              }
            }
            Files.delete(g);
          }
        }
      }
    } finally {
      etcd.stop();
      Bench.stop(pidA);
      Bench.stop(pidB);
    }
    Arrays.sort(peaks);
    System.out.printf(
        "memory: the daemon at %d HTTP (+%d TCP) services under a 256 MB cgroup limit, default JVM"
            + " options, %d runs (no warm-up excluded)%n",
        size, tcp(size), runs);
    lines.forEach(System.out::println);
    System.out.printf(
        "  daemon peak RSS over the runs: %.1f-%.1f MB (limit 256 MB)%n",
        peaks[0], peaks[runs - 1]);
  }

  /**
   * Waits up to a minute for {@code host} to be answered with {@code body}: slow is measured, not
   * fatal.
   */
  private static void served(DaemonProcess d, String host, String body) {
    Await.until(
        Duration.ofSeconds(60),
        d::describe,
        () ->
            io.haproxyconfd.adapters.haproxy.RawHttp.get(d.http, host, "/")
                .body()
                .startsWith(body));
  }

  static double statusMb(long pid, String field) throws Exception {
    for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
      if (line.startsWith(field)) {
        return Long.parseLong(line.replaceAll("\\D", "")) / 1024.0;
      }
    }
    throw new IllegalStateException("no " + field + " for " + pid);
  }

  /** HAProxy's idle CPU with checks every {@code interval}, on the keys {@link #measure} wrote. */
  private static String checkCost(Path dir, EtcdCluster etcd, int size, String interval)
      throws Exception {
    String id = "scale" + size;
    Map<String, String> env =
        new java.util.HashMap<>(Bench.daemonEnv(id, etcd, dir.resolve("checks-" + interval)));
    env.put("CHECK_INTERVAL", interval);
    DaemonProcess d = DaemonProcess.launch(env);
    try {
      Await.until(Duration.ofMinutes(5), d::describe, () -> d.get("/readyz").statusCode() == 200);
      String last = "s" + (size - 1) + ".example.org";
      Await.until(
          Duration.ofSeconds(60),
          d::describe,
          () ->
              io.haproxyconfd.adapters.haproxy.RawHttp.get(d.http, last, "/")
                  .body()
                  .startsWith("backend="));
      Thread.sleep(3000); // let the start's checks and the old worker settle: a warm-up, not a wait
      double[] cpu = new double[3];
      for (int w = 0; w < cpu.length; w++) {
        long before = 0;
        List<Long> pids = haproxyPids(d);
        for (long p : pids) {
          before += cpuTicks(p);
        }
        long start = System.nanoTime();
        Thread.sleep(10_000); // the measurement window itself
        long after = 0;
        for (long p : pids) {
          after += cpuTicks(p);
        }
        cpu[w] = 100.0 * (after - before) / 100.0 / ((System.nanoTime() - start) / 1e9);
      }
      Arrays.sort(cpu);
      return String.format(
          "  CHECK_INTERVAL=%-4s %5.1f / %5.1f / %5.1f %%  (%d checks/s)",
          interval, cpu[0], cpu[1], cpu[2], Math.round((size + tcp(size)) / seconds(interval)));
    } finally {
      d.stop();
    }
  }

  private static Row measure(
      Path dir, EtcdCluster etcd, Client client, int size, String a, String b) throws Exception {
    String id = "scale" + size;
    String prefix = "/haproxy-" + id + "/";
    writeKeys(client, size, a);
    return measureRunning(dir, etcd, client, size, prefix, id, a, b);
  }

  /** {@code size} HTTP services and {@link #tcp} TCP services, each with one agent backend. */
  private static void writeKeys(Client client, int size, String a) throws Exception {
    String prefix = "/haproxy-scale" + size + "/";
    long writeStart = System.nanoTime();
    List<Map.Entry<String, String>> keys = new ArrayList<>();
    for (int i = 0; i < size; i++) {
      keys.add(Map.entry(prefix + "services/s" + i + "/domain", "s" + i + ".example.org"));
      keys.add(Map.entry(prefix + "services/s" + i + "/w1", a));
    }
    for (int i = 0; i < tcp(size); i++) {
      keys.add(
          Map.entry(
              prefix + "tcp-services/t" + i + "/external_port",
              Integer.toString(Bench.freePort())));
      keys.add(Map.entry(prefix + "tcp-services/t" + i + "/internal_port", "80"));
      keys.add(Map.entry(prefix + "tcp-services/t" + i + "/w1", a));
    }
    EtcdWrites.putAll(client, keys, Duration.ofMinutes(5));
    System.out.printf(
        "scale %d: %d keys written in %d ms%n",
        size, keys.size(), (System.nanoTime() - writeStart) / 1_000_000);
  }

  private static Row measureRunning(
      Path dir,
      EtcdCluster etcd,
      Client client,
      int size,
      String prefix,
      String id,
      String a,
      String b)
      throws Exception {
    long start = System.nanoTime();
    Path stateDir = dir.resolve("state-" + id);
    DaemonProcess d = DaemonProcess.launch(Bench.daemonEnv(id, etcd, stateDir));
    try {
      Await.until(Duration.ofMinutes(5), d::describe, () -> d.get("/readyz").statusCode() == 200);
      long readyMs = (System.nanoTime() - start) / 1_000_000;
      String last = "s" + (size - 1) + ".example.org";
      long lastHostMs = Bench.untilServed(d.http, last, "backend=a", start) / 1_000_000;

      // The first changes after start pay for code not yet compiled: told apart, not counted.
      long s0 = System.nanoTime();
      EtcdWrites.put(client, prefix + "services/s" + (size - 1) + "/w1", b);
      double firstBackend = Bench.untilServed(d.http, last, "backend=b", s0) / 1e6;
      Thread.sleep(200); // pacing between changes, not synchronisation
      s0 = System.nanoTime();
      EtcdWrites.put(client, prefix + "services/s" + (size - 1) + "/domain", last + ",first.org");
      double firstRoute = Bench.untilServed(d.http, "first.org", "backend=b", s0) / 1e6;
      Thread.sleep(200);
      EtcdWrites.put(client, prefix + "services/s" + (size - 1) + "/w1", a);
      Bench.untilServed(d.http, last, "backend=a", System.nanoTime());
      Thread.sleep(200);

      long[] backend = new long[FAST_TRIALS];
      long[] route = new long[FAST_TRIALS];
      long cpuBefore = cpuTicks(d.pid());
      for (int t = 0; t < FAST_TRIALS; t++) {
        String to = t % 2 == 0 ? b : a;
        String body = t % 2 == 0 ? "backend=b" : "backend=a";
        long s = System.nanoTime();
        EtcdWrites.put(client, prefix + "services/s" + (size - 1) + "/w1", to);
        backend[t] = Bench.untilServed(d.http, last, body, s);
        Thread.sleep(200); // pacing between changes, not synchronisation
        String alias = "alias" + t + ".example.org";
        s = System.nanoTime();
        EtcdWrites.put(client, prefix + "services/s" + (size - 1) + "/domain", last + "," + alias);
        route[t] = Bench.untilServed(d.http, alias, body, s);
        Thread.sleep(200);
      }
      // Pacing included: what the daemon spent per change, its idle work (about 1%) with it.
      double cpuMsPerChange = (cpuTicks(d.pid()) - cpuBefore) * 10.0 / (2 * FAST_TRIALS);
      // Routes of the other kinds, each kind on a service of its own: a wildcard host, a path
      // prefix its backend takes off, a regex. Each new value is served at a path the one before
      // did not match; whether any reloaded, the HAProxy workers tell. One change of each first,
      // as above: from a host alone to a host and a path is a change of map too.
      String wild = "s" + (size - 2);
      String pre = "s" + (size - 3);
      String reg = "s" + (size - 4);
      routeKinds(client, d, prefix, wild, pre, reg, "warm", 0);
      java.util.Set<Long> routeWorkers = d.workers();
      long[][] kinds = new long[3][FAST_TRIALS];
      for (int t = 0; t < FAST_TRIALS; t++) {
        long[] took = routeKinds(client, d, prefix, wild, pre, reg, "k" + t, 200);
        for (int k = 0; k < 3; k++) {
          kinds[k][t] = took[k];
        }
      }
      int routeKindReloads = d.workers().equals(routeWorkers) ? 0 : 1;
      // New services with default settings, each served from a spare; whether one reloaded, the
      // HAProxy workers tell.
      java.util.Set<Long> workers = d.workers();
      long[] spare = new long[SPARE_TRIALS];
      for (int t = 0; t < SPARE_TRIALS; t++) {
        long s = System.nanoTime();
        EtcdWrites.put(client, prefix + "services/new" + t + "/domain", "new" + t + ".example.org");
        EtcdWrites.put(client, prefix + "services/new" + t + "/w1", a);
        spare[t] = Bench.untilServed(d.http, "new" + t + ".example.org", "backend=a", s);
        Thread.sleep(200);
      }
      int spareReloads = d.workers().equals(workers) ? 0 : 1;
      // New services with a setting of their own (balance source): a reload each.
      long[] structural = new long[RELOAD_TRIALS];
      long[] structuralAt = new long[RELOAD_TRIALS];
      for (int t = 0; t < RELOAD_TRIALS; t++) {
        long s = System.nanoTime();
        structuralAt[t] = s;
        String name = prefix + "services/own" + t;
        EtcdWrites.putTogether(
            client,
            Map.of(
                name + "/balance",
                "source",
                name + "/domain",
                "own" + t + ".example.org",
                name + "/w1",
                a));
        structural[t] = Bench.untilServed(d.http, "own" + t + ".example.org", "backend=a", s);
        Thread.sleep(200);
      }

      // Idle: after the writes that follow changes (haproxy.cfg at most 10 s later, last good
      // versions 5 s) are done.
      Thread.sleep(12_000);
      double idleCpu = idleCpuPercent(d.pid(), Duration.ofSeconds(10));
      double rss = rssMb(d.pid());
      double heap = heapAfterGcMb(d.pid());
      double haproxyRss = 0;
      for (long p : haproxyPids(d)) {
        haproxyRss += rssMb(p);
      }
      // Alternating, three runs each, the median: one 5 s run on two cores varies by 20-30%.
      double[] first = new double[3];
      double[] lastHost = new double[3];
      for (int r = 0; r < 3; r++) {
        first[r] = wrkRps(d.http, "s0.example.org");
        lastHost[r] = wrkRps(d.http, last);
      }
      Arrays.sort(first);
      Arrays.sort(lastHost);
      double firstRps = first[1];
      double lastRps = lastHost[1];
      double peakRss = peakRssMb(d.pid());
      // The floor under a reload: HAProxy alone on the config the daemon served, the daemon gone.
      d.stop();
      // HAProxy reloads faster when the one before was a moment ago (its old worker had hardly
      // begun its health checks): alone, it is reloaded as often as the daemon reloaded it.
      long[] gaps = new long[RELOAD_TRIALS - 1];
      for (int t = 1; t < RELOAD_TRIALS; t++) {
        gaps[t - 1] = structuralAt[t] - structuralAt[t - 1];
      }
      Arrays.sort(gaps);
      long[] alone = haproxyAloneReloads(stateDir, RELOAD_TRIALS, gaps[gaps.length / 2]);
      return new Row(
          size,
          readyMs,
          lastHostMs,
          Bench.quantileMs(spare, 0.5),
          Bench.quantileMs(spare, 0.99),
          spareReloads,
          Bench.quantileMs(structural, 0.5),
          Bench.quantileMs(structural, 1.0),
          Bench.quantileMs(alone, 0.5),
          Bench.quantileMs(alone, 1.0),
          Bench.quantileMs(backend, 0.5),
          Bench.quantileMs(backend, 0.99),
          Bench.quantileMs(route, 0.5),
          Bench.quantileMs(route, 0.99),
          firstBackend,
          firstRoute,
          cpuMsPerChange,
          heap,
          rss,
          peakRss,
          haproxyRss,
          idleCpu,
          firstRps,
          lastRps,
          Bench.quantileMs(kinds[0], 0.5),
          Bench.quantileMs(kinds[0], 0.99),
          Bench.quantileMs(kinds[1], 0.5),
          Bench.quantileMs(kinds[1], 0.99),
          Bench.quantileMs(kinds[2], 0.5),
          Bench.quantileMs(kinds[2], 0.99),
          routeKindReloads);
    } finally {
      d.close(); // stopped already, unless a measurement failed
    }
  }

  /**
   * One change of each route kind, named {@code tag}, each put and waited for until served: the
   * wildcard {@code *.<tag>.example.org} on {@code wild}, the prefix {@code /<tag>/} (taken off) on
   * {@code pre}, the regex {@code ^/<tag>/} on {@code reg}, each beside the service's host.
   *
   * @return etcd put to first request served, in nanoseconds, of each
   */
  private static long[] routeKinds(
      Client client,
      DaemonProcess d,
      String prefix,
      String wild,
      String pre,
      String reg,
      String tag,
      long pacingMs)
      throws Exception {
    long[] took = new long[3];
    long s = System.nanoTime();
    EtcdWrites.put(
        client,
        prefix + "services/" + wild + "/domain",
        wild + ".example.org,*." + tag + ".example.org");
    took[0] = Bench.untilServed(d.http, "x." + tag + ".example.org", "/", "backend=a", s);
    Thread.sleep(pacingMs); // pacing between changes, not synchronisation
    s = System.nanoTime();
    EtcdWrites.put(client, prefix + "services/" + pre + "/url_beg", "/" + tag + "/");
    took[1] = Bench.untilServed(d.http, pre + ".example.org", "/" + tag + "/x", "backend=a", s);
    Thread.sleep(pacingMs);
    s = System.nanoTime();
    EtcdWrites.put(client, prefix + "services/" + reg + "/url_reg", "^/" + tag + "/");
    took[2] = Bench.untilServed(d.http, reg + ".example.org", "/" + tag + "/x", "backend=a", s);
    Thread.sleep(pacingMs);
    return took;
  }

  /**
   * Start to first apply alone, {@code runs} times at 100 services (the baseline) and at {@code
   * size}, each daemon from its entrypoint on a fresh state directory, the sizes alternating. With
   * the environment variable BASELINE_JAVA_OPTS set, each start is also made with those options in
   * place of the entrypoint's defaults, alternating with them: what a change of the defaults
   * brings, measured in one run on one machine.
   */
  private static void start(int size, int runs) throws Exception {
    Path dir = Files.createTempDirectory("bench-start");
    int port = Bench.freePort();
    long backend = Bench.startStaticBackend(dir, port, "backend=a");
    String baseline = System.getenv("BASELINE_JAVA_OPTS");
    List<String> options = new ArrayList<>();
    options.add(null); // the entrypoint's defaults
    if (baseline != null) {
      options.add(baseline);
    }
    int[] sizes = {100, size};
    long[][][] ms = new long[sizes.length][options.size()][runs];
    EtcdCluster etcd = EtcdCluster.of(1);
    etcd.start();
    try (Client client = Client.builder().endpoints(etcd.endpoints()).build()) {
      for (int s : sizes) {
        writeKeys(client, s, "127.0.0.1:" + port);
      }
      for (int run = 0; run < runs; run++) {
        for (int i = 0; i < sizes.length; i++) {
          for (int o = 0; o < options.size(); o++) {
            String id = "scale" + sizes[i];
            Map<String, String> env =
                new java.util.HashMap<>(
                    Bench.daemonEnv(id, etcd, dir.resolve("state-" + id + "-" + run + "-" + o)));
            if (options.get(o) != null) {
              env.put("JAVA_OPTS", options.get(o));
            }
            long t0 = System.nanoTime();
            DaemonProcess d = DaemonProcess.launch(env);
            try {
              Await.until(
                  Duration.ofMinutes(5), d::describe, () -> d.get("/readyz").statusCode() == 200);
              ms[i][o][run] = (System.nanoTime() - t0) / 1_000_000;
              served(d, "s" + (sizes[i] - 1) + ".example.org", "backend=a");
            } finally {
              d.stop();
            }
          }
        }
      }
    } finally {
      etcd.stop();
      Bench.stop(backend);
    }
    System.out.printf(
        "start: the daemon from its entrypoint to /readyz 200 (its first config applied), agent"
            + " keys, a fresh state directory each time, %d runs, sizes alternating: median"
            + " (range)%n",
        runs);
    for (int o = 0; o < options.size(); o++) {
      String what =
          options.get(o) == null ? "default JVM options" : "JAVA_OPTS=\"" + options.get(o) + "\"";
      long[][] bySize = new long[sizes.length][];
      for (int i = 0; i < sizes.length; i++) {
        bySize[i] = ms[i][o].clone();
        Arrays.sort(bySize[i]);
      }
      System.out.printf(
          "  %s: %d services %d ms (%d-%d); %d HTTP (+%d TCP) services %d ms (%d-%d); %.2fx%n",
          what,
          sizes[0],
          bySize[0][runs / 2],
          bySize[0][0],
          bySize[0][runs - 1],
          sizes[1],
          tcp(sizes[1]),
          bySize[1][runs / 2],
          bySize[1][0],
          bySize[1][runs - 1],
          (double) bySize[1][runs / 2] / bySize[0][runs / 2]);
    }
    if (options.size() > 1) {
      for (int i = 0; i < sizes.length; i++) {
        double[] ratio = new double[runs];
        for (int run = 0; run < runs; run++) {
          ratio[run] = (double) ms[i][0][run] / ms[i][1][run];
        }
        Arrays.sort(ratio);
        System.out.printf(
            "  defaults against the baseline options at %d services, run by run: %.2f-%.2fx"
                + " (median %.2fx)%n",
            sizes[i], ratio[0], ratio[runs - 1], ratio[runs / 2]);
      }
    }
  }

  /** The status page's three kinds of request, each timed {@link #PAGE_TRIALS} times. */
  static final int PAGE_TRIALS = 30;

  /**
   * The operator's page at 100 services and at {@code size}, the daemon started fresh for each size
   * in each run: its first page, a filter down to one service, and its last page, each asked {@link
   * #PAGE_TRIALS} times one after another (HAProxy asked about the shown services every time).
   * Prints the median and the slowest of each, the size's against 100's.
   */
  private static void page(int size, int runs) throws Exception {
    Path dir = Files.createTempDirectory("bench-page");
    int port = Bench.freePort();
    long backend = Bench.startStaticBackend(dir, port, "backend=a");
    int[] sizes = {100, size};
    String[] kinds = {"first page", "filter to one", "last page"};
    // [size][kind][run]: median and max of the trials, in microseconds
    long[][][] p50 = new long[sizes.length][kinds.length][runs];
    long[][][] max = new long[sizes.length][kinds.length][runs];
    long[] bytes = new long[sizes.length];
    EtcdCluster etcd = EtcdCluster.of(1);
    etcd.start();
    try (Client client = Client.builder().endpoints(etcd.endpoints()).build()) {
      for (int s : sizes) {
        writeKeys(client, s, "127.0.0.1:" + port);
      }
      for (int run = 0; run < runs; run++) {
        for (int i = 0; i < sizes.length; i++) {
          String id = "scale" + sizes[i];
          int total = sizes[i] + tcp(sizes[i]);
          String[] paths = {
            "/?refresh=0",
            "/?refresh=0&q=s" + (sizes[i] - 1) + ".example.org",
            "/?refresh=0&page=" + ((total + 49) / 50)
          };
          DaemonProcess d =
              DaemonProcess.launch(
                  Bench.daemonEnv(id, etcd, dir.resolve("state-" + id + "-" + run)));
          try {
            Await.until(
                Duration.ofMinutes(5), d::describe, () -> d.get("/readyz").statusCode() == 200);
            for (int k = 0; k < kinds.length; k++) {
              long[] us = new long[PAGE_TRIALS];
              for (int t = 0; t < PAGE_TRIALS; t++) {
                long t0 = System.nanoTime();
                var answer = d.get(paths[k]);
                us[t] = (System.nanoTime() - t0) / 1_000;
                if (answer.statusCode() != 200 || !answer.body().contains("</html>")) {
                  throw new IllegalStateException(paths[k] + ": " + answer.statusCode());
                }
                if (k == 0) {
                  bytes[i] = answer.body().length();
                }
              }
              Arrays.sort(us);
              p50[i][k][run] = us[PAGE_TRIALS / 2];
              max[i][k][run] = us[PAGE_TRIALS - 1];
            }
          } finally {
            d.stop();
          }
        }
      }
    } finally {
      etcd.stop();
      Bench.stop(backend);
    }
    System.out.printf(
        "page: the status page (GET / on the admin address), %d HTTP (+%d TCP) services against"
            + " 100, %d runs, each size's daemon fresh; %d requests of each kind a run; median"
            + " and slowest, ms, range over runs; the ratio of the medians%n",
        size, tcp(size), runs, PAGE_TRIALS);
    for (int k = 0; k < kinds.length; k++) {
      System.out.printf(
          "  %s: 100: %s / %s; %d: %s / %s; %s%n",
          kinds[k],
          range(p50[0][k]),
          range(max[0][k]),
          size,
          range(p50[1][k]),
          range(max[1][k]),
          ratioRange(p50[1][k], p50[0][k]));
    }
    System.out.printf(
        "  first page: %d bytes at 100, %d bytes at %d (50 services a page)%n",
        bytes[0], bytes[1], size);
  }

  /** {@code min-max} of microsecond figures, in ms. */
  private static String range(long[] us) {
    long[] sorted = us.clone();
    Arrays.sort(sorted);
    return String.format("%.1f-%.1f", sorted[0] / 1000.0, sorted[sorted.length - 1] / 1000.0);
  }

  /** The ratio run by run, as {@code min-max x}. */
  private static String ratioRange(long[] of, long[] against) {
    double[] r = new double[of.length];
    for (int i = 0; i < of.length; i++) {
      r[i] = (double) of[i] / against[i];
    }
    Arrays.sort(r);
    return String.format("%.2f-%.2fx", r[0], r[r.length - 1]);
  }

  /**
   * HAProxy alone, without the daemon: started on the haproxy.cfg the daemon last served (from its
   * state directory, once the daemon has stopped) as the daemon starts it, master-worker with a
   * master CLI, then reloaded {@code n} times through that CLI, each {@code everyNanos} after the
   * one before began (at least 200 ms after it ended). Each is timed from the command until the
   * master has a worker it did not have before, as the daemon waits for one: the least any change
   * that needs a reload can take.
   */
  static long[] haproxyAloneReloads(Path stateDir, int n, long everyNanos) throws Exception {
    Path pidFile = stateDir.resolve("run/haproxy.pid"); // as the config's own pidfile line says
    Path socket = stateDir.resolve("run/alone-master.sock");
    Path out = stateDir.resolve("alone.out");
    Process launch =
        new ProcessBuilder(
                "haproxy",
                "-W",
                "-D",
                "-f",
                stateDir.resolve("haproxy.cfg").toString(),
                "-p",
                pidFile.toString(),
                "-S",
                socket + ",mode,600")
            .redirectErrorStream(true)
            .redirectOutput(out.toFile()) // the master keeps its output open: not a pipe
            .start();
    if (!launch.waitFor(60, java.util.concurrent.TimeUnit.SECONDS) || launch.exitValue() != 0) {
      throw new IllegalStateException("HAProxy alone did not start: " + Files.readString(out));
    }
    long master = Long.parseLong(Files.readString(pidFile).strip());
    try {
      untilNewWorker(socket, java.util.Set.of());
      long[] took = new long[n];
      for (int i = 0; i < n; i++) {
        java.util.Set<Long> before = workersOf(socket);
        long s = System.nanoTime();
        masterCli(socket, "reload");
        untilNewWorker(socket, before);
        took[i] = System.nanoTime() - s;
        // Pacing, as the daemon's reloads came: the next one starts everyNanos after this one
        // started, and at least 200 ms after it ended.
        long rest = Math.max(200_000_000L, everyNanos - took[i]);
        Thread.sleep(rest / 1_000_000);
      }
      return took;
    } finally {
      Bench.stop(master);
      Await.until(
          Duration.ofSeconds(30),
          () -> "HAProxy alone (" + master + ") still running",
          () -> ProcessHandle.of(master).map(ph -> !ph.isAlive()).orElse(true));
    }
  }

  /**
   * The workers the master CLI lists ({@code show proc}), as the daemon reads them; empty while the
   * master re-executes and refuses connections.
   */
  private static java.util.Set<Long> workersOf(Path socket) {
    String out;
    try {
      out = masterCli(socket, "show proc");
    } catch (java.io.IOException e) {
      return java.util.Set.of();
    }
    java.util.Set<Long> pids = new java.util.HashSet<>();
    boolean inWorkers = false;
    for (String line : out.split("\n")) {
      if (line.startsWith("#")) {
        inWorkers = line.startsWith("# workers");
        continue;
      }
      String[] fields = line.trim().split("\\s+");
      if (inWorkers && fields.length > 1 && fields[1].equals("worker")) {
        pids.add(Long.parseLong(fields[0]));
      }
    }
    return pids;
  }

  private static void untilNewWorker(Path socket, java.util.Set<Long> before) {
    long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(60);
    while (true) {
      java.util.Set<Long> now = workersOf(socket);
      if (!now.isEmpty() && !before.containsAll(now)) {
        return;
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("no new HAProxy worker within 60 s");
      }
      java.util.concurrent.locks.LockSupport.parkNanos(2_000_000); // as the daemon polls
    }
  }

  private static String masterCli(Path socket, String command) throws java.io.IOException {
    try (java.nio.channels.SocketChannel ch =
        java.nio.channels.SocketChannel.open(java.net.UnixDomainSocketAddress.of(socket))) {
      ch.write(
          java.nio.ByteBuffer.wrap(
              (command + "\n").getBytes(java.nio.charset.StandardCharsets.US_ASCII)));
      ch.shutdownOutput();
      java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
      java.nio.ByteBuffer buf = java.nio.ByteBuffer.allocate(4096);
      while (ch.read(buf) >= 0) {
        out.write(buf.array(), 0, buf.position());
        buf.clear();
      }
      return out.toString(java.nio.charset.StandardCharsets.US_ASCII);
    }
  }

  private static double seconds(String interval) {
    long n = Long.parseLong(interval.replaceAll("\\D", ""));
    return interval.endsWith("h") ? n * 3600 : interval.endsWith("m") ? n * 60 : n;
  }

  /** User plus system CPU of {@code pid} over {@code window}, in percent of one core. */
  private static double idleCpuPercent(long pid, Duration window) throws Exception {
    long before = cpuTicks(pid);
    long start = System.nanoTime();
    Thread.sleep(window.toMillis()); // the measurement window itself
    long ticks = cpuTicks(pid) - before;
    double seconds = (System.nanoTime() - start) / 1e9;
    return 100.0 * ticks / 100.0 / seconds; // USER_HZ is 100 on Linux
  }

  static long cpuTicks(long pid) throws Exception {
    String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
    String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    return Long.parseLong(f[11]) + Long.parseLong(f[12]); // utime, stime
  }

  /** The most memory the process has held (VmHWM). */
  static double peakRssMb(long pid) throws Exception {
    for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
      if (line.startsWith("VmHWM:")) {
        return Long.parseLong(line.replaceAll("\\D", "")) / 1024.0;
      }
    }
    return 0;
  }

  static double rssMb(long pid) throws Exception {
    for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
      if (line.startsWith("VmRSS:")) {
        return Long.parseLong(line.replaceAll("\\D", "")) / 1024.0;
      }
    }
    throw new IllegalStateException("no VmRSS for " + pid);
  }

  /** Heap in use after a full GC, from {@code jcmd}: what the daemon really holds. */
  private static double heapAfterGcMb(long pid) throws Exception {
    Bench.run("jcmd", Long.toString(pid), "GC.run");
    String info = Bench.run("jcmd", Long.toString(pid), "GC.heap_info");
    long usedKb = 0;
    // Serial GC prints each generation as "... generation total NK, used NK": their sum. G1
    // prints one "garbage-first heap total NK, used NK" (DAEMON_JAVA_OPTS may choose it).
    Matcher m =
        Pattern.compile("(?:generation|garbage-first heap)\\s+total \\d+K, used (\\d+)K")
            .matcher(info);
    while (m.find()) {
      usedKb += Long.parseLong(m.group(1));
    }
    if (usedKb == 0) {
      throw new IllegalStateException("no heap figures in: " + info);
    }
    return usedKb / 1024.0;
  }

  private static List<Long> haproxyPids(DaemonProcess d) throws Exception {
    long master = d.masterPid();
    List<Long> pids = new ArrayList<>(List.of(master));
    ProcessHandle.of(master).ifPresent(p -> p.children().forEach(c -> pids.add(c.pid())));
    return pids;
  }

  private static double wrkRps(int port, String host) throws Exception {
    String out =
        Bench.run(
            "wrk", "-t2", "-c50", "-d5s", "-H", "Host: " + host, "http://127.0.0.1:" + port + "/");
    Matcher m = Pattern.compile("Requests/sec:\\s+([\\d.]+)").matcher(out);
    if (!m.find() || out.contains("Non-2xx")) {
      throw new IllegalStateException("wrk for " + host + ": " + out);
    }
    return Double.parseDouble(m.group(1));
  }

  private static void print(List<Row> rows) {
    System.out.println(
        "scale: HTTP services (+ a tenth as many TCP), daemon started from its entrypoint with"
            + " default JVM options; changes are etcd put to first request served, p50 / p99 of "
            + FAST_TRIALS
            + " after the first change of each kind (told apart), 200 ms apart; a new service with"
            + " default settings: p50 / p99 of "
            + SPARE_TRIALS
            + ", and whether HAProxy's workers changed over them (reloads); with a setting of its"
            + " own (balance source): p50 / max of "
            + RELOAD_TRIALS
            + "; HAProxy alone: the same haproxy.cfg, the daemon stopped, reloaded "
            + RELOAD_TRIALS
            + " times through the master CLI as often as the daemon reloaded it, each until a new"
            + " worker (the floor under a reload)"
            + "; daemon CPU per change over the backend and host changes, pacing included; idle"
            + " CPU over 10 s from 12 s after the last change");
    System.out.println(
        "| HTTP services | start to first apply, ms | to last host served, ms | backend moved, ms"
            + " | host added, ms | first change after start (backend / host), ms | new service from a"
            + " spare, ms (reloads) | new service with own settings (reload), p50 / max, ms |"
            + " HAProxy alone: reload, p50 / max, ms | daemon CPU per change, ms | daemon heap after GC, MB | daemon RSS (peak), MB |"
            + " HAProxy RSS, MB | daemon idle CPU, % | req/s first host | req/s last host |"
            + " last / first |");
    System.out.println("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for (Row r : rows) {
      System.out.printf(
          "| %d | %d | %d | %.1f / %.1f | %.1f / %.1f | %.1f / %.1f | %.1f / %.1f (%d) | %.1f / %.1f |"
              + " %.1f / %.1f | %.1f | %.1f | %.1f (%.1f) | %.1f | %.2f | %.0f | %.0f | %.3f |%n",
          r.http(),
          r.readyMs(),
          r.lastHostMs(),
          r.backendMs(),
          r.backendP99Ms(),
          r.routeMs(),
          r.routeP99Ms(),
          r.firstBackendMs(),
          r.firstRouteMs(),
          r.spareMs(),
          r.spareP99Ms(),
          r.spareReloads(),
          r.structuralMs(),
          r.structuralMaxMs(),
          r.aloneReloadMs(),
          r.aloneReloadMaxMs(),
          r.cpuMsPerChange(),
          r.heapMb(),
          r.rssMb(),
          r.peakRssMb(),
          r.haproxyRssMb(),
          r.idleCpuPercent(),
          r.firstRps(),
          r.lastRps(),
          r.lastRps() / r.firstRps());
    }
    System.out.println(
        "scale, routes of each kind changed on an existing service: etcd put to first request"
            + " served, p50 / p99 of "
            + FAST_TRIALS
            + " each, 200 ms apart, after one change of each (told apart); reloads: whether"
            + " HAProxy's workers changed over them");
    System.out.println(
        "| HTTP services | exact host added, ms | wildcard host, ms | prefix taken off, ms |"
            + " regex, ms | reloads |");
    System.out.println("|---|---|---|---|---|---|");
    for (Row r : rows) {
      System.out.printf(
          "| %d | %.1f / %.1f | %.1f / %.1f | %.1f / %.1f | %.1f / %.1f | %d |%n",
          r.http(),
          r.routeMs(),
          r.routeP99Ms(),
          r.wildcardMs(),
          r.wildcardP99Ms(),
          r.prefixMs(),
          r.prefixP99Ms(),
          r.regexMs(),
          r.regexP99Ms(),
          r.routeKindReloads());
    }
    Row base = rows.get(0);
    for (Row r : rows.subList(1, rows.size())) {
      System.out.printf(
          "%d against %d services: backend moved p99 %.2fx, host added p99 %.2fx, wildcard p99"
              + " %.2fx, prefix p99 %.2fx, regex p99 %.2fx, new service from a spare p99 %.2fx,"
              + " start %.2fx%n",
          r.http(),
          base.http(),
          r.backendP99Ms() / base.backendP99Ms(),
          r.routeP99Ms() / base.routeP99Ms(),
          r.wildcardP99Ms() / base.wildcardP99Ms(),
          r.prefixP99Ms() / base.prefixP99Ms(),
          r.regexP99Ms() / base.regexP99Ms(),
          r.spareP99Ms() / base.spareP99Ms(),
          (double) r.readyMs() / base.readyMs());
    }
  }

  /** bench/scale.dat and, through gnuplot, bench/scale.png. */
  private static void chart(List<Row> rows) throws Exception {
    StringBuilder dat =
        new StringBuilder(
            "# http_services ready_ms structural_ms backend_ms heap_mb rss_mb haproxy_rss_mb"
                + " first_rps last_rps\n");
    for (Row r : rows) {
      dat.append(
          String.format(
              "%d %d %.1f %.1f %.1f %.1f %.1f %.0f %.0f%n",
              r.http(),
              r.readyMs(),
              r.structuralMs(),
              r.backendMs(),
              r.heapMb(),
              r.rssMb(),
              r.haproxyRssMb(),
              r.firstRps(),
              r.lastRps()));
    }
    Path data = Path.of("bench/scale.dat");
    Files.writeString(data, dat);
    String script =
        String.join(
            "\n",
            "set terminal png size 1200,400",
            "set output 'bench/scale.png'",
            "set multiplot layout 1,3 title 'haproxy-confd by number of HTTP services (+ a tenth"
                + " as many TCP)'",
            "set logscale x",
            "set xlabel 'HTTP services'",
            "set key top left",
            "set logscale y",
            "set ylabel 'ms'",
            "set title 'time'",
            "plot 'bench/scale.dat' using 1:2 with linespoints title 'start to first apply', "
                + "'' using 1:3 with linespoints title 'structural change', "
                + "'' using 1:4 with linespoints title 'backend change'",
            "unset logscale y",
            "set ylabel 'MB'",
            "set title 'memory'",
            "plot 'bench/scale.dat' using 1:5 with linespoints title 'daemon heap after GC', "
                + "'' using 1:6 with linespoints title 'daemon RSS', "
                + "'' using 1:7 with linespoints title 'HAProxy RSS', "
                + "256 with lines dashtype 2 title 'target: RSS 256 MB'",
            "set ylabel 'requests/s'",
            "set yrange [0:*]",
            "set title 'throughput by host'",
            "plot 'bench/scale.dat' using 1:8 with linespoints title 'first host', "
                + "'' using 1:9 with linespoints title 'last host'",
            "unset multiplot",
            "");
    Path gp = Files.createTempFile("scale", ".gp");
    Files.writeString(gp, script);
    Bench.run("gnuplot", gp.toString());
    System.out.println("chart: bench/scale.png, data: bench/scale.dat");
  }
}
