package io.haproxyconfd.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.haproxyconfd.domain.Await;
import io.haproxyconfd.domain.Backend;
import io.haproxyconfd.domain.Keys;
import io.haproxyconfd.domain.ParseOptions;
import io.haproxyconfd.domain.Port;
import io.haproxyconfd.domain.ProxyConfig;
import io.haproxyconfd.domain.ProxyId;
import io.haproxyconfd.domain.ServiceName;
import io.haproxyconfd.ports.ApplyResult;
import io.haproxyconfd.ports.BackendQuery;
import io.haproxyconfd.ports.BackendResolver;
import io.haproxyconfd.ports.ChangeListener;
import io.haproxyconfd.ports.MemoryCatalog;
import io.haproxyconfd.ports.MemoryStore;
import io.haproxyconfd.ports.ProxyConfigurator;
import io.haproxyconfd.ports.Resolution;
import io.haproxyconfd.ports.Subscription;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The reconcile loop with hand-written fakes of the store and the proxy. */
class ReconcilerTest {
  @TempDir Path stateDir;

  static final ProxyId PROXY = new ProxyId("t");

  /** The keys of {@link #PROXY} in a store that runs the same contract as etcd and Consul. */
  static final class FakeStore {
    final MemoryStore memory = new MemoryStore();
    final java.util.concurrent.atomic.AtomicBoolean down = memory.down;
    final java.util.concurrent.atomic.AtomicInteger reads = memory.reads;

    void set(Map<String, String> values) {
      memory.set(PROXY, values);
    }

    Map<String, String> keys() {
      return memory.values(PROXY);
    }
  }

  /** A proxy that records what it was asked to apply. */
  static final class FakeProxy implements ProxyConfigurator {
    final List<ProxyConfig> applied = new CopyOnWriteArrayList<>();

    @Override
    public void start() {}

    @Override
    public ApplyResult apply(ProxyConfig desired) {
      applied.add(desired);
      return new ApplyResult(ApplyResult.Outcome.RELOADED, desired.revision(), List.of(), "test");
    }

    // The loop never renders or checks: those are for the render and check commands.
    @Override
    public String render(ProxyConfig config) {
      throw new UnsupportedOperationException();
    }

    @Override
    public java.nio.file.Path renderTo(ProxyConfig config, java.nio.file.Path dir) {
      throw new UnsupportedOperationException();
    }

    @Override
    public List<io.haproxyconfd.domain.Problem> check(ProxyConfig config) {
      throw new UnsupportedOperationException();
    }

    @Override
    public java.util.Map<String, List<io.haproxyconfd.ports.ServerHealth>> health(
        java.util.Collection<String> services) {
      return java.util.Map.of();
    }

    @Override
    public io.haproxyconfd.ports.RouteExplanation explain(
        ProxyConfig config, String host, String path) {
      throw new UnsupportedOperationException();
    }

    @Override
    public void stop() {}

    @Override
    public void close() {}
  }

  /** The system clock, plus however far a test has moved it on. */
  static final class MovableClock extends Clock {
    private volatile Duration ahead = Duration.ZERO;

    void advance(Duration by) {
      ahead = ahead.plus(by);
    }

    @Override
    public Instant instant() {
      return Clock.systemUTC().instant().plus(ahead);
    }

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      throw new UnsupportedOperationException();
    }
  }

  private final FakeStore store = new FakeStore();
  private final MovableClock clock = new MovableClock();
  private final FakeProxy proxy = new FakeProxy();
  private final Status status = new Status();

  private Reconciler reconciler(Duration quiet, Duration maxDelay) {
    return reconciler(quiet, maxDelay, new AgentKeysResolver(AgentNames.none()));
  }

  private Reconciler reconciler(Duration quiet, Duration maxDelay, BackendResolver resolver) {
    return new Reconciler(
        PROXY,
        store.memory,
        resolver,
        proxy,
        now -> Keys.DNS.withDiscovery(ParseOptions.Discovery.KEYS),
        new Reconciler.Timing(quiet, maxDelay, Duration.ofMinutes(5), true),
        clock,
        status,
        new LastGoodFile(stateDir));
  }

  @Test
  void a_burst_of_signals_is_merged_and_ends_in_the_final_state() throws Exception {
    try (Reconciler r = reconciler(Duration.ofMillis(50), Duration.ofSeconds(2))) {
      r.start();
      Await.until(Duration.ofSeconds(5), "first pass", () -> proxy.applied.size() == 1);
      for (int i = 0; i < 500; i++) {
        store.set(
            Map.of(
                "services/web/domain",
                "example.org",
                "services/web/w1",
                "10.0." + (i / 250) + "." + (i % 250 + 1) + ":80"));
      }
      Await.until(
          Duration.ofSeconds(5),
          () -> "final state in " + proxy.applied,
          () ->
              proxy
                  .applied
                  .get(proxy.applied.size() - 1)
                  .http()
                  .get(0)
                  .backends()
                  .toString()
                  .equals("[10.0.1.250:80]")); // no earlier state has it
      assertTrue(proxy.applied.size() < 20, proxy.applied.size() + " applies for 500 signals");
    }
  }

  /**
   * Waits until {@code n} passes are over: the status is told after the loop has noted when the
   * pass ended, which decides whether the next change is read at once. (The fake proxy sees the
   * apply earlier: a clock moved then would race the loop.)
   */
  private void awaitPasses(int n) {
    Await.until(
        Duration.ofSeconds(5),
        n + " passes over",
        () ->
            proxy.applied.size() == n
                && status
                        .prometheus()
                        .lines()
                        .filter(l -> l.startsWith("haproxy_confd_applies_total{"))
                        .mapToLong(l -> Long.parseLong(l.substring(l.lastIndexOf(' ') + 1)))
                        .sum()
                    == n);
  }

  @Test
  void a_backend_route_or_host_change_is_applied_at_once_a_new_service_after_the_quiet_period()
      throws Exception {
    Duration quiet = Duration.ofSeconds(1);
    store.set(Map.of("services/web/domain", "example.org", "services/web/w1", "10.0.0.1:80"));
    try (Reconciler r = reconciler(quiet, Duration.ofSeconds(5))) {
      r.start();
      awaitPasses(1);
      clock.advance(quiet); // a quiet spell: the next change is read at once

      long start = System.nanoTime();
      store.set(Map.of("services/web/domain", "example.org", "services/web/w1", "10.0.0.2:80"));
      awaitPasses(2);
      Duration backend = Duration.ofNanos(System.nanoTime() - start);
      assertTrue(backend.compareTo(quiet) < 0, "backend change waited " + backend);

      clock.advance(quiet);
      start = System.nanoTime();
      Map<String, String> keys = new TreeMap<>(store.keys());
      keys.put("services/blog/domain", "blog.example.org");
      store.set(keys);
      keys.put("services/blog/w1", "10.0.0.3:80");
      store.set(keys); // the same service's second key, a moment later
      Await.until(Duration.ofSeconds(5), "new service", () -> proxy.applied.size() == 3);
      Duration structural = Duration.ofNanos(System.nanoTime() - start);
      assertTrue(structural.compareTo(quiet) >= 0, "new service applied after " + structural);
      assertEquals(
          "[10.0.0.3:80]",
          proxy.applied.get(2).http().get(0).backends().toString(),
          "applied once, with both of its keys");
      awaitPasses(3);

      // A host is one key: applied at once, like a backend.
      Duration host =
          afterQuietSpell(quiet, keys, "services/web/domain", "example.org,www.example.org", 4);
      assertTrue(host.compareTo(quiet) < 0, "host change waited " + host);
      assertEquals(
          "[example.org, www.example.org]",
          proxy.applied.get(3).httpService(ServiceName.of("web")).orElseThrow().hosts().stream()
              .map(h -> h.value())
              .toList()
              .toString());
    }
  }

  /**
   * A path rule of any kind is a route change: applied at once, as a host is, whether its backend
   * takes the prefix off the path or keeps it; and so is keep_path.
   */
  @Test
  void a_path_rule_of_any_kind_is_applied_at_once() throws Exception {
    Duration quiet = Duration.ofSeconds(1);
    Map<String, String> keys = new TreeMap<>();
    keys.put("services/web/domain", "example.org");
    keys.put("services/web/url_beg", "/api");
    keys.put("services/web/keep_path", "true");
    keys.put("services/web/w1", "10.0.0.1:80");
    keys.put("services/img/url_reg", "^/img/");
    keys.put("services/img/w1", "10.0.0.2:80");
    keys.put("services/shop/domain", "shop.example.org");
    keys.put("services/shop/url_beg", "/cart");
    keys.put("services/shop/w1", "10.0.0.3:80");
    store.set(keys);
    try (Reconciler r = reconciler(quiet, Duration.ofSeconds(5))) {
      r.start();
      awaitPasses(1);

      Duration kept = afterQuietSpell(quiet, keys, "services/web/url_beg", "/v2", 2);
      assertTrue(kept.compareTo(quiet) < 0, "a kept prefix waited " + kept);
      assertEquals("[/v2]", pathsOf(proxy.applied.get(1), "web"));

      Duration regex = afterQuietSpell(quiet, keys, "services/img/url_reg", "^/images/", 3);
      assertTrue(regex.compareTo(quiet) < 0, "a regex waited " + regex);
      assertEquals("[^/images/]", pathsOf(proxy.applied.get(2), "img"));

      Duration stripped = afterQuietSpell(quiet, keys, "services/shop/url_beg", "/basket", 4);
      assertTrue(stripped.compareTo(quiet) < 0, "a stripped prefix waited " + stripped);
      assertEquals("[/basket]", pathsOf(proxy.applied.get(3), "shop"));

      // keep_path, often written just after its url_beg: at once too, a change of maps.
      Duration keep = afterQuietSpell(quiet, keys, "services/shop/keep_path", "true", 5);
      assertTrue(keep.compareTo(quiet) < 0, "keep_path waited " + keep);
      assertTrue(
          proxy
              .applied
              .get(4)
              .httpService(ServiceName.of("shop"))
              .orElseThrow()
              .policy()
              .keepPath());
    }
  }

  /** One key set after a quiet spell: how long until pass {@code pass} is over. */
  private Duration afterQuietSpell(
      Duration quiet, Map<String, String> keys, String key, String value, int pass) {
    clock.advance(quiet);
    long start = System.nanoTime();
    keys.put(key, value);
    store.set(keys);
    awaitPasses(pass);
    return Duration.ofNanos(System.nanoTime() - start);
  }

  private static String pathsOf(ProxyConfig config, String service) {
    return config.httpService(ServiceName.of(service)).orElseThrow().paths().stream()
        .map(p -> p.value())
        .toList()
        .toString();
  }

  @Test
  void a_store_outage_is_retried_and_counted_as_a_reconnect() throws Exception {
    store.down.set(true);
    try (Reconciler r = reconciler(Duration.ofMillis(10), Duration.ofMillis(100))) {
      r.start();
      Await.until(
          Duration.ofSeconds(5),
          "a failure",
          () -> status.prometheus().contains("haproxy_confd_apply_failures_total 1"));
      assertEquals(0, proxy.applied.size(), "nothing applied while the store is down");
      store.down.set(false);
      Await.until(Duration.ofSeconds(5), "ready after the outage", status::ready);
      assertEquals(1, proxy.applied.size());
      assertTrue(
          status.prometheus().contains("haproxy_confd_store_reconnects_total 1"),
          status.prometheus());
    }
  }

  @Test
  void a_pass_for_moved_backends_alone_reads_no_keys_and_any_key_signal_reads_them()
      throws Exception {
    MemoryCatalog catalog = new MemoryCatalog();
    ServiceName web = ServiceName.of("web");
    catalog.set(web, List.of(Backend.of("10.0.0.1", 80)));
    store.set(Map.of("services/web/domain", "example.org", "services/web/port", "80"));
    try (Reconciler r = reconciler(Duration.ofMillis(10), Duration.ofMillis(100), catalog)) {
      r.start();
      awaitPasses(1);
      int reads = store.reads.get();

      catalog.set(web, List.of(Backend.of("10.0.0.2", 80)));
      awaitPasses(2);
      assertEquals("[10.0.0.2:80]", proxy.applied.get(1).http().get(0).backends().toString());
      assertEquals(reads, store.reads.get(), "the keys were not read again");

      store.set(Map.of("services/web/domain", "example.net", "services/web/port", "80"));
      awaitPasses(3);
      assertEquals(
          "example.net", proxy.applied.get(2).http().get(0).hosts().get(0).value(), "new keys");
      assertTrue(store.reads.get() > reads, "a key signal reads the keys");
    }
  }

  /** A fake resolver's signalling: listeners, and a signal to them all. */
  abstract static class SignallingResolver implements BackendResolver {
    private final List<ChangeListener> listeners = new CopyOnWriteArrayList<>();

    void signal(String reason) {
      listeners.forEach(l -> l.changed(reason));
    }

    @Override
    public Subscription onChange(ChangeListener l) {
      listeners.add(l);
      return () -> listeners.remove(l);
    }

    @Override
    public void close() {}
  }

  /** A resolver that has no answer for any service until {@link #answer} is called. */
  static final class SlowResolver extends SignallingResolver {
    private volatile boolean answered;

    @Override
    public Map<BackendQuery, Resolution> resolve(Set<BackendQuery> queries) {
      Map<BackendQuery, Resolution> out = new HashMap<>();
      for (var q : queries) {
        out.put(
            q,
            answered
                ? Resolution.of(List.of(Backend.of("10.0.0.7", 80)))
                : Resolution.pending("no answer for " + q.service() + " yet"));
      }
      return out;
    }

    void answer() {
      answered = true;
      signal("first answer");
    }
  }

  @Test
  void the_daemon_is_not_ready_while_a_service_waits_for_its_first_answer() throws Exception {
    store.set(Map.of("services/web/domain", "example.org", "services/web/port", "80"));
    SlowResolver resolver = new SlowResolver();
    try (Reconciler r = reconciler(Duration.ofMillis(10), Duration.ofMillis(100), resolver)) {
      r.start();
      awaitPasses(1);
      assertEquals(false, status.ready(), "applied, but web has no answer yet");
      assertTrue(
          status.prometheus().contains("haproxy_confd_services_waiting_for_resolver 1"),
          status.prometheus());
      assertEquals(1, status.snapshot().get("waitingForResolver"));

      resolver.answer();
      Await.until(Duration.ofSeconds(5), "ready once web is answered", status::ready);
      assertEquals(
          "[10.0.0.7:80]",
          proxy.applied.get(proxy.applied.size() - 1).http().get(0).backends().toString());
      assertTrue(
          status.prometheus().contains("haproxy_confd_ready 1"), "the metric says so as well");
    }
  }

  @Test
  void a_flood_of_new_problems_logs_a_screenful_and_counts_the_rest() {
    Set<String> before = new java.util.LinkedHashSet<>(List.of("old 1", "old 2"));
    Set<String> now = new java.util.LinkedHashSet<>(List.of("old 1"));
    for (int i = 0; i < 1000; i++) {
      now.add("new " + i);
    }
    List<String> logged = new java.util.ArrayList<>();
    List<Integer> rest = new java.util.ArrayList<>();
    Reconciler.logAtMost(now, before, Reconciler.REPORT_LINES, logged::add, rest::add);
    assertEquals(Reconciler.REPORT_LINES, logged.size(), logged.toString());
    assertEquals("new 0", logged.get(0), "in the order they came");
    assertEquals(List.of(1000 - Reconciler.REPORT_LINES), rest);

    logged.clear();
    rest.clear();
    Reconciler.logAtMost(before, now, Reconciler.REPORT_LINES, logged::add, rest::add);
    assertEquals(List.of("old 2"), logged, "what is gone, once");
    assertEquals(List.of(), rest, "nothing more to count");
  }

  /** A resolver whose answers the test moves, and which says which answers moved. */
  static final class TrackingResolver extends SignallingResolver {
    final Map<String, String> addresses = new java.util.concurrent.ConcurrentHashMap<>();
    final List<Set<String>> asked = new CopyOnWriteArrayList<>();
    final Set<BackendQuery> changes = java.util.concurrent.ConcurrentHashMap.newKeySet();

    @Override
    public Map<BackendQuery, Resolution> resolve(Set<BackendQuery> queries) {
      asked.add(new TreeSet<>(queries.stream().map(q -> q.service().value()).toList()));
      Map<BackendQuery, Resolution> out = new HashMap<>();
      for (var q : queries) {
        out.put(q, Resolution.of(List.of(Backend.of(addresses.get(q.service().value()), 80))));
      }
      return out;
    }

    @Override
    public Map<BackendQuery, Resolution> resolve(
        Set<BackendQuery> interest, Set<BackendQuery> queries) {
      return resolve(queries);
    }

    void move(BackendQuery q, String address) {
      addresses.put(q.service().value(), address);
      changes.add(q);
      signal("moved " + q.service());
    }

    @Override
    public Optional<Set<BackendQuery>> takeChanges() {
      Set<BackendQuery> taken = Set.copyOf(changes);
      changes.removeAll(taken);
      return Optional.of(taken);
    }
  }

  @Test
  void a_moved_answer_asks_the_resolver_about_that_service_alone() throws Exception {
    Map<String, String> keys = new HashMap<>();
    TrackingResolver resolver = new TrackingResolver();
    for (String name : List.of("a", "b", "c", "d")) {
      keys.put("services/" + name + "/domain", name + ".example.org");
      keys.put("services/" + name + "/port", "80");
      resolver.addresses.put(name, "10.0.0.1");
    }
    store.set(keys);
    try (Reconciler r = reconciler(Duration.ofMillis(10), Duration.ofMillis(100), resolver)) {
      r.start();
      awaitPasses(1);
      assertEquals(Set.of("a", "b", "c", "d"), resolver.asked.get(0));
      int before = resolver.asked.size();
      resolver.move(
          new BackendQuery(ServiceName.of("c"), Optional.of(Port.of(80)), List.of()), "10.0.0.9");
      Await.until(
          Duration.ofSeconds(5),
          "c served at its new address",
          () ->
              !proxy.applied.isEmpty()
                  && proxy
                      .applied
                      .get(proxy.applied.size() - 1)
                      .httpService(ServiceName.of("c"))
                      .map(s -> s.backends().toString().equals("[10.0.0.9:80]"))
                      .orElse(false));
      assertEquals(
          List.of(Set.of("c")),
          resolver.asked.subList(before, resolver.asked.size()),
          "asked about c alone");
      ProxyConfig applied = proxy.applied.get(proxy.applied.size() - 1);
      assertEquals(
          "[10.0.0.1:80]",
          applied.httpService(ServiceName.of("d")).orElseThrow().backends().toString(),
          "the others keep their answers");
    }
  }
}
