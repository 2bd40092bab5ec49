package io.haproxyconfd.it.bench;

import io.haproxyconfd.adapters.haproxy.RawHttp;
import io.haproxyconfd.domain.Backend;
import io.haproxyconfd.domain.Keys;
import io.haproxyconfd.domain.ParseOptions;
import io.haproxyconfd.domain.ProxyConfig;
import io.haproxyconfd.ports.ApplyResult;
import io.haproxyconfd.ports.ProxyConfigurator;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Time from {@code apply()} to the first request served by the change, with 100 services: a backend
 * moved (runtime API) and a new service (reload). The backends are static HAProxy responders, so
 * the figures are HAProxy's and ours, not a test server's; a request with nothing changing is
 * measured in the same run as the baseline.
 *
 * <p>Usage: {@code bench/run update-latency [trials]} (default 100). {@code -Dwarmup=N} sets the
 * number of runtime changes made first (default 2,000), so that the JIT has compiled the apply path
 * as it has in a daemon that has been running for a while.
 */
public final class UpdateLatency {
  static final int SERVICES = 100;
  static final int WARM_UP = Integer.getInteger("warmup", 2000);

  public static void main(String[] args) throws Exception {
    int trials = args.length > 0 ? Integer.parseInt(args[0]) : 100;
    int port = Bench.freePort();
    Path dir = Files.createTempDirectory("bench-latency");
    int portA = Bench.freePort();
    int portB = Bench.freePort();
    long pidA = Bench.startStaticBackend(dir, portA, "backend=a");
    long pidB = Bench.startStaticBackend(dir, portB, "backend=b");
    Backend a = Backend.of("127.0.0.1", portA);
    Backend b = Backend.of("127.0.0.1", portB);
    ProxyConfigurator proxy = Bench.ours(dir.resolve("state"), port);
    try {
      proxy.apply(config(a, a, false));
      for (int i = 0; i < WARM_UP; i++) {
        proxy.apply(config(i % 2 == 0 ? b : a, a, false));
      }
      proxy.apply(config(a, a, false));

      long[] baseline = new long[trials];
      for (int i = 0; i < trials; i++) {
        long start = System.nanoTime();
        if (RawHttp.get(port, "s0.example.org", "/").status() != 200) {
          throw new IllegalStateException("the baseline request failed");
        }
        baseline[i] = System.nanoTime() - start;
      }

      long[] runtime = new long[trials];
      long[] runtimeApply = new long[trials];
      for (int i = 0; i < trials; i++) {
        boolean toB = i % 2 == 0;
        ProxyConfig next = config(toB ? b : a, a, false);
        String wanted = toB ? "backend=b" : "backend=a";
        long start = System.nanoTime();
        ApplyResult r = proxy.apply(next);
        runtimeApply[i] = System.nanoTime() - start;
        expect(r, ApplyResult.Outcome.RUNTIME_UPDATE);
        while (!RawHttp.get(port, "s0.example.org", "/").body().equals(wanted)) {
          Thread.onSpinWait();
        }
        runtime[i] = System.nanoTime() - start;
      }

      long[] reload = new long[trials];
      long[] reloadApply = new long[trials];
      for (int i = 0; i < trials; i++) {
        boolean add = i % 2 == 0;
        ProxyConfig next = config(a, a, add);
        long start = System.nanoTime();
        expect(proxy.apply(next), ApplyResult.Outcome.RELOADED);
        reloadApply[i] = System.nanoTime() - start;
        int wanted = add ? 200 : 503;
        while (RawHttp.get(port, "new.example.org", "/").status() != wanted) {
          Thread.onSpinWait();
        }
        reload[i] = System.nanoTime() - start;
      }
      System.out.printf(
          "update-latency with %d services, after %d warm-up changes; apply() to first request"
              + " served:%n",
          SERVICES, WARM_UP);
      System.out.println(
          "  baseline, one request, nothing changing: " + Bench.percentiles(baseline));
      System.out.println("  backend moved (runtime API):    " + Bench.percentiles(runtime));
      System.out.println("    of which apply() returning:   " + Bench.percentiles(runtimeApply));
      System.out.println("  service added/removed (reload): " + Bench.percentiles(reload));
      System.out.println("    of which apply() returning:   " + Bench.percentiles(reloadApply));
      System.out.printf(
          "  at p99: runtime / baseline %.1fx, reload / runtime %.1fx%n",
          Bench.quantileMs(runtime, 0.99) / Bench.quantileMs(baseline, 0.99),
          Bench.quantileMs(reload, 0.99) / Bench.quantileMs(runtime, 0.99));
    } finally {
      proxy.stop();
      Bench.stop(pidA);
      Bench.stop(pidB);
    }
  }

  private static void expect(ApplyResult r, ApplyResult.Outcome outcome) {
    if (r.outcome() != outcome) {
      throw new IllegalStateException("expected " + outcome + ", got " + r);
    }
  }

  static ProxyConfig config(Backend first, Backend others, boolean withNew) {
    Keys keys = Keys.of();
    for (int i = 0; i < SERVICES; i++) {
      Backend e = i == 0 ? first : others;
      keys.put(
          "services/s" + i + "/domain",
          "s" + i + ".example.org",
          "services/s" + i + "/b1",
          e.toString());
    }
    if (withNew) {
      keys.put("services/new/domain", "new.example.org", "services/new/b1", others.toString());
    }
    return keys.parse(Keys.DNS.withDiscovery(ParseOptions.Discovery.KEYS)).config();
  }
}
