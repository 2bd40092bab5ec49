package io.haproxyconfd.it.bench;

import io.haproxyconfd.adapters.etcd.EtcdCluster;
import io.haproxyconfd.adapters.haproxy.HaproxyConfigurators;
import io.haproxyconfd.adapters.haproxy.HaproxySettings;
import io.haproxyconfd.adapters.haproxy.RawHttp;
import io.haproxyconfd.ports.ProxyConfigurator;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Helpers the benchmarks share: free ports, processes, wrk, a fast static backend, percentiles. */
final class Bench {
  private Bench() {}

  static int freePort() throws IOException {
    return io.haproxyconfd.domain.FreePorts.next();
  }

  static String run(String... command) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IOException(String.join(" ", command) + " failed: " + out);
    }
    return out;
  }

  /** A static HAProxy answering 200 "ok": a backend that is never the bottleneck. */
  static long startStaticBackend(Path dir, int port) throws IOException, InterruptedException {
    return startStaticBackend(dir, port, "ok");
  }

  /** The same answering {@code body}: tells which backend served, at HAProxy's speed. */
  static long startStaticBackend(Path dir, int port, String body)
      throws IOException, InterruptedException {
    return startStaticBackend(dir, "127.0.0.1", port, body);
  }

  /** The same on another loopback address: two backends on one port, told apart by DNS. */
  static long startStaticBackend(Path dir, String address, int port, String body)
      throws IOException, InterruptedException {
    Path cfg = dir.resolve("backend-" + address + "-" + port + ".cfg");
    Files.writeString(
        cfg,
        "global\n  maxconn 4096\ndefaults\n  mode http\n  timeout client 30s\n  timeout server 30s\n"
            + "  timeout connect 5s\nfrontend f\n  bind "
            + address
            + ":"
            + port
            + "\n"
            + "  http-request return status 200 content-type text/plain string "
            + body
            + "\n");
    Path pid = dir.resolve("backend-" + address + "-" + port + ".pid");
    run("haproxy", "-D", "-f", cfg.toString(), "-p", pid.toString());
    return Long.parseLong(Files.readString(pid).strip());
  }

  static void stop(long pid) {
    ProcessHandle.of(pid).ifPresent(ProcessHandle::destroy);
  }

  static ProxyConfigurator ours(Path state, int http) throws Exception {
    HaproxySettings settings =
        HaproxySettings.defaults(state).withPorts("127.0.0.1", http, freePort(), freePort());
    ProxyConfigurator c = HaproxyConfigurators.create(settings);
    c.start();
    return c;
  }

  /** wrk's counts: requests, non-2xx/3xx, and socket errors. */
  record WrkResult(long requests, long non2xx, long connect, long read, long write, long timeout) {
    long failed() {
      return non2xx + connect + read + write + timeout;
    }
  }

  /** Runs wrk until {@code work} is done, then stops it with SIGINT (it then prints its totals). */
  static WrkResult underLoad(int port, boolean close, Runnable work) throws Exception {
    List<String> cmd =
        new ArrayList<>(List.of("wrk", "-t1", "-c50", "-d300s", "http://127.0.0.1:" + port + "/"));
    if (close) {
      cmd.addAll(1, List.of("-H", "Connection: close"));
    }
    Process wrk = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    Thread.sleep(1000); // wrk warms up its connections before the first reload
    work.run();
    Thread.sleep(1000); // requests in flight during the last reload finish
    run("kill", "-INT", Long.toString(wrk.pid()));
    String out = new String(wrk.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    wrk.waitFor(30, TimeUnit.SECONDS);
    return new WrkResult(
        find(out, "(\\d+) requests in"),
        find(out, "Non-2xx or 3xx responses: (\\d+)"),
        find(out, "connect (\\d+),"),
        find(out, "read (\\d+),"),
        find(out, "write (\\d+),"),
        find(out, "timeout (\\d+)"));
  }

  private static long find(String text, String regex) {
    Matcher m = Pattern.compile(regex).matcher(text);
    return m.find() ? Long.parseLong(m.group(1)) : 0;
  }

  /**
   * The daemon's environment for a proxy reading {@code etcd}, backends from agent keys. The
   * environment variable DAEMON_JAVA_OPTS, when set, replaces the entrypoint's JVM options.
   */
  static Map<String, String> daemonEnv(String proxyId, EtcdCluster etcd, Path stateDir) {
    Map<String, String> env = new java.util.HashMap<>();
    env.put("HAPROXY_ID", proxyId);
    env.put("ETCD_NODE", etcd.endpoints());
    env.put("CONFD_RESOLVER", "keys");
    env.put("STATE_DIR", stateDir.toString());
    String javaOpts = System.getenv("DAEMON_JAVA_OPTS");
    if (javaOpts != null) {
      env.put("JAVA_OPTS", javaOpts);
    }
    return env;
  }

  /**
   * Sends requests for {@code host} until one is answered with {@code body}; the nanoseconds from
   * {@code since} until then.
   */
  static long untilServed(int port, String host, String body, long since) throws Exception {
    return untilServed(port, host, "/", body, since);
  }

  /** As {@link #untilServed(int, String, String, long)}, for a request of {@code path}. */
  static long untilServed(int port, String host, String path, String body, long since)
      throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    RawHttp.Response last = null;
    while (System.nanoTime() < deadline) {
      RawHttp.Response r = RawHttp.get(port, host, path);
      last = r;
      if (r.status() == 200 && r.body().equals(body)) {
        return System.nanoTime() - since;
      }
      // A request every 0.2 ms at most, and no more often than a hundredth of the time waited so
      // far: on two cores, polling flat out would take the CPU from the daemon, etcd and HAProxy,
      // and measure itself. A reload of a second, polled every 0.2 ms, is 5,000 connections to
      // the old worker while HAProxy's master parses the new config on the same two cores; polled
      // at 1% of the wait, it is read to within 1%.
      LockSupport.parkNanos(Math.max(200_000, (System.nanoTime() - since) / 100));
    }
    throw new IllegalStateException(
        host + path + " not answered with " + body + " within 10 s; last answer: " + last);
  }

  /** p50, p99 and max of {@code nanos}, in milliseconds, and how many there were. */
  static String percentiles(long[] nanos) {
    return String.format(
        "p50 %.2f ms, p99 %.2f ms, max %.2f ms (n=%d)",
        quantileMs(nanos, 0.5), quantileMs(nanos, 0.99), quantileMs(nanos, 1), nanos.length);
  }

  /** The {@code q} quantile of {@code nanos} by nearest rank, in milliseconds. */
  static double quantileMs(long[] nanos, double q) {
    long[] sorted = nanos.clone();
    Arrays.sort(sorted);
    return sorted[Math.max(0, (int) Math.ceil(sorted.length * q) - 1)] / 1e6;
  }
}
