package io.haproxyconfd.it.bench;

import io.haproxyconfd.adapters.haproxy.EchoBackend;
import io.haproxyconfd.adapters.haproxy.HaproxyConfigurators;
import io.haproxyconfd.adapters.haproxy.RawHttp;
import io.haproxyconfd.domain.Keys;
import io.haproxyconfd.domain.ParseOptions;
import io.haproxyconfd.domain.ProxyConfig;
import io.haproxyconfd.ports.ApplyResult;
import io.haproxyconfd.ports.ProxyConfigurator;
import java.nio.file.Files;

/**
 * Time from {@code apply()} to the first request served by the change, with 100 services: a backend
 * moved (runtime API) and a new service (reload).
 *
 * <p>Usage: {@code bench/run update-latency [trials]} (default 100).
 */
public final class UpdateLatency {
  static final int SERVICES = 100;

  public static void main(String[] args) throws Exception {
    int trials = args.length > 0 ? Integer.parseInt(args[0]) : 100;
    int port = Bench.freePort();
    try (EchoBackend a = new EchoBackend("a");
        EchoBackend b = new EchoBackend("b")) {
      ProxyConfigurator proxy = Bench.ours(Files.createTempDirectory("bench-latency"), port);
      try {
        proxy.apply(config(a, a, false));
        for (int i = 0; i < 20; i++) { // warm-up: JIT, sockets
          proxy.apply(config(i % 2 == 0 ? b : a, a, false));
        }
        proxy.apply(config(a, a, false));

        long[] runtime = new long[trials];
        long[] runtimeApply = new long[trials];
        for (int i = 0; i < trials; i++) {
          EchoBackend to = i % 2 == 0 ? b : a;
          ProxyConfig next = config(to, a, false);
          long start = System.nanoTime();
          ApplyResult r = proxy.apply(next);
          runtimeApply[i] = System.nanoTime() - start;
          expect(r, ApplyResult.Outcome.RUNTIME_UPDATE);
          while (!RawHttp.get(port, "s0.example.org", "/")
              .body()
              .startsWith("backend=" + to.name())) {
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
            "update-latency with %d services, apply() to first request served:%n", SERVICES);
        System.out.println("  backend moved (runtime API): " + Bench.percentiles(runtime));
        System.out.println("    of which apply() returning:  " + Bench.percentiles(runtimeApply));
        System.out.println("  service added/removed (reload): " + Bench.percentiles(reload));
        System.out.println("    of which apply() returning:  " + Bench.percentiles(reloadApply));
        System.out.printf(
            "  reload / runtime at p99: %.1fx%n", Bench.p99(reload) / Bench.p99(runtime));
      } finally {
        HaproxyConfigurators.stop(proxy);
      }
    }
  }

  private static void expect(ApplyResult r, ApplyResult.Outcome outcome) {
    if (r.outcome() != outcome) {
      throw new IllegalStateException("expected " + outcome + ", got " + r);
    }
  }

  static ProxyConfig config(EchoBackend first, EchoBackend others, boolean withNew) {
    Keys keys = Keys.of();
    for (int i = 0; i < SERVICES; i++) {
      EchoBackend e = i == 0 ? first : others;
      keys.put(
          "services/s" + i + "/domain",
          "s" + i + ".example.org",
          "services/s" + i + "/b1",
          e.backend().toString());
    }
    if (withNew) {
      keys.put(
          "services/new/domain", "new.example.org", "services/new/b1", others.backend().toString());
    }
    return keys.parse(Keys.DNS.withDiscovery(ParseOptions.Discovery.KEYS)).config();
  }
}
