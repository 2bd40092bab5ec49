package io.haproxyconfd.it.bench;

import io.haproxyconfd.adapters.haproxy.RawHttp;
import io.haproxyconfd.domain.Keys;
import io.haproxyconfd.domain.ParseOptions;
import io.haproxyconfd.domain.ParseResult;
import io.haproxyconfd.it.HaproxyView;
import io.haproxyconfd.ports.ProxyConfigurator;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.BiFunction;
import java.util.function.IntFunction;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Routing at scale, for each kind of rule: {@code rules} services that each route by one rule of
 * that kind (exact host, wildcard host, path prefix, path regex), and requests/s through HAProxy
 * for the service whose entry HAProxy's map holds first against the one it holds last (read back
 * with {@code show map}, so "first" and "last" are HAProxy's evaluation order, not ours).
 *
 * <p>Every request carries a fresh random label or path segment (a wrk Lua script), because HAProxy
 * keeps an LRU cache of pattern lookups ({@code tune.pattern.cache-size}, 10,000 entries by
 * default): a benchmark that repeats one request measures the cache, and would hide a list walk.
 * The same script runs for the first and the last service, so the ratio compares like with like.
 * First and last alternate, {@code runs} times each; the median and the range are printed.
 *
 * <p>Usage: {@code bench/run routing [rules] [runs]} (default 10000 3).
 */
public final class Routing {
  /**
   * One kind of rule: its key and value for service {@code i}, and the host and path of a request
   * that reaches service i, given a random token.
   */
  record Kind(
      String name,
      String map,
      IntFunction<String[]> keys,
      BiFunction<Integer, String, String> host,
      BiFunction<Integer, String, String> path) {}

  static final List<Kind> KINDS =
      List.of(
          new Kind(
              "exact host",
              "host.map",
              i -> new String[] {"domain", "s" + i + ".example.org"},
              (i, r) -> "s" + i + ".example.org",
              (i, r) -> "/x/" + r),
          new Kind(
              "wildcard host",
              "wildcard.map",
              i -> new String[] {"domain", "*.w" + i + ".example.org"},
              (i, r) -> "r" + r + ".w" + i + ".example.org",
              (i, r) -> "/x/" + r),
          new Kind(
              "path prefix",
              "path.map",
              i -> new String[] {"url_beg", "/p" + i},
              (i, r) -> "any.example.org",
              (i, r) -> "/p" + i + "/" + r),
          new Kind(
              "path regex",
              "path_reg.map",
              i -> new String[] {"url_reg", "^/r" + i + "/"},
              (i, r) -> "any.example.org",
              (i, r) -> "/r" + i + "/" + r));

  /** In a Lua string literal: a fresh random number for every request. */
  private static final String LUA_RANDOM = "\" .. math.random(1e9) .. \"";

  private static final Pattern BACKEND = Pattern.compile(" http-s(\\d+)$");

  public static void main(String[] args) throws Exception {
    int rules = args.length > 0 ? Integer.parseInt(args[0]) : 10_000;
    int runs = args.length > 1 ? Integer.parseInt(args[1]) : 3;
    Path dir = Files.createTempDirectory("bench-routing");
    int backendPort = Bench.freePort();
    long backend = Bench.startStaticBackend(dir, backendPort);
    int http = Bench.freePort();
    Path state = Files.createTempDirectory(dir, "state");
    ProxyConfigurator proxy = Bench.ours(state, http);
    List<String> lines = new ArrayList<>();
    try {
      for (Kind kind : KINDS) {
        lines.add(measure(kind, rules, runs, proxy, state, http, dir, backendPort));
        System.out.println(lines.get(lines.size() - 1));
      }
    } finally {
      proxy.stop();
      Bench.stop(backend);
    }
    System.out.printf(
        "routing: %d rules of one kind, one static backend, wrk -t1 -c50 -d5s, each request with a"
            + " random label or path segment; first and last entry of HAProxy's map alternating, %d"
            + " runs each: req/s median (min-max), last / first median (min-max of the runs)%n",
        rules, runs);
    lines.forEach(System.out::println);
  }

  private static String measure(
      Kind kind,
      int rules,
      int runs,
      ProxyConfigurator proxy,
      Path state,
      int http,
      Path dir,
      int backendPort)
      throws Exception {
    Keys keys = new Keys();
    for (int i = 0; i < rules; i++) {
      String[] rule = kind.keys().apply(i);
      keys.put(
          "services/s" + i + "/" + rule[0],
          rule[1],
          "services/s" + i + "/b1",
          "127.0.0.1:" + backendPort);
    }
    ParseResult parsed = keys.parse(Keys.DNS.withDiscovery(ParseOptions.Discovery.KEYS));
    if (!parsed.problems().isEmpty()) {
      throw new IllegalStateException(kind.name() + ": " + parsed.problems().get(0));
    }
    proxy.apply(parsed.config());
    List<String> entries = HaproxyView.of(state).maps().getOrDefault(kind.map(), List.of());
    if (entries.size() != rules) {
      throw new IllegalStateException(
          kind.name() + ": HAProxy's " + kind.map() + " holds " + entries.size() + " entries");
    }
    int first = service(entries.get(0));
    int last = service(entries.get(entries.size() - 1));
    Path firstScript = script(dir, kind, first, http);
    Path lastScript = script(dir, kind, last, http);
    double[] firstRps = new double[runs];
    double[] lastRps = new double[runs];
    double[] ratios = new double[runs];
    for (int r = 0; r < runs; r++) {
      firstRps[r] = rps(http, firstScript);
      lastRps[r] = rps(http, lastScript);
      ratios[r] = lastRps[r] / firstRps[r];
    }
    return String.format(
        "  %-13s first (s%d) %s, last (s%d) %s, last / first %s",
        kind.name(),
        first,
        range(firstRps, "%.0f"),
        last,
        range(lastRps, "%.0f"),
        range(ratios, "%.3f"));
  }

  /** The service an entry of {@code show map} routes to: {@code key http-s<N>}. */
  private static int service(String entry) {
    Matcher m = BACKEND.matcher(entry);
    if (!m.find()) {
      throw new IllegalStateException("unexpected map entry: " + entry);
    }
    return Integer.parseInt(m.group(1));
  }

  /** A wrk script whose every request reaches service {@code i}, checked once first. */
  private static Path script(Path dir, Kind kind, int i, int http) throws Exception {
    RawHttp.Response probe =
        RawHttp.get(http, kind.host().apply(i, "1"), kind.path().apply(i, "1"));
    if (probe.status() != 200) {
      throw new IllegalStateException(kind.name() + ": s" + i + " answered " + probe.status());
    }
    Path lua = dir.resolve(kind.map() + "-" + i + ".lua");
    Files.writeString(
        lua,
        "request = function()\n  return wrk.format(\"GET\", \""
            + kind.path().apply(i, LUA_RANDOM)
            + "\", {Host = \""
            + kind.host().apply(i, LUA_RANDOM)
            + "\"})\nend\n");
    return lua;
  }

  private static double rps(int port, Path script) throws Exception {
    String out =
        Bench.run(
            "wrk",
            "-t1",
            "-c50",
            "-d5s",
            "-s",
            script.toString(),
            "http://127.0.0.1:" + port + "/");
    Matcher m = Pattern.compile("Requests/sec:\\s+([\\d.]+)").matcher(out);
    if (!m.find() || out.contains("Non-2xx") || out.contains("Socket errors")) {
      throw new IllegalStateException("wrk with " + script + ": " + out);
    }
    return Double.parseDouble(m.group(1));
  }

  /** Median and range of {@code values}, each in {@code format}. */
  private static String range(double[] values, String format) {
    double[] sorted = values.clone();
    Arrays.sort(sorted);
    return String.format(
        format + " (" + format + "-" + format + ")",
        sorted[sorted.length / 2],
        sorted[0],
        sorted[sorted.length - 1]);
  }
}
