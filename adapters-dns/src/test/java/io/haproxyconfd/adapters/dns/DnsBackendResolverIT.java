package io.haproxyconfd.adapters.dns;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.haproxyconfd.domain.Await;
import io.haproxyconfd.domain.Backend;
import io.haproxyconfd.domain.Port;
import io.haproxyconfd.domain.ServiceName;
import io.haproxyconfd.ports.BackendQuery;
import io.haproxyconfd.ports.BackendResolver;
import io.haproxyconfd.ports.Resolution;
import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class DnsBackendResolverIT {
  @RegisterExtension
  static Dnsmasq dns =
      Dnsmasq.withTtl(1, "_http._tcp.srvweb,srv-1.test,8081", "_http._tcp.srvweb,srv-2.test,8082");

  /** Answers with a TTL of 3 s: long enough to see when refreshes fall within it. */
  @RegisterExtension static Dnsmasq ttl3 = Dnsmasq.withTtl(3);

  private static final Duration FAST = Duration.ofMillis(300);

  private static DnsSettings settings() {
    return new DnsSettings(
        List.of(dns.address()),
        List.of(),
        1,
        Duration.ofSeconds(1),
        FAST,
        Duration.ofSeconds(60),
        Duration.ofSeconds(2),
        false);
  }

  /** Where a test's own DNS socket (silent, failing, half-answering) listens. */
  private static InetSocketAddress addressOf(DatagramSocket socket) {
    return new InetSocketAddress(InetAddress.getLoopbackAddress(), socket.getLocalPort());
  }

  private static BackendQuery query(String name, int port) {
    return new BackendQuery(ServiceName.of(name), Optional.of(Port.of(port)), List.of());
  }

  private static Resolution resolveOne(BackendResolver r, BackendQuery q) {
    return r.resolve(Set.of(q)).get(q);
  }

  @Test
  void a_and_aaaa_records_give_the_backends_with_the_service_port() throws Exception {
    dns.hosts("10.0.0.1 web", "10.0.0.2 web", "2001:db8::5 web");
    try (BackendResolver r = new DnsBackendResolver(settings(), java.time.Clock.systemUTC())) {
      Resolution res = resolveOne(r, query("web", 8080));
      assertEquals(
          List.of(
              Backend.of("10.0.0.1", 8080),
              Backend.of("10.0.0.2", 8080),
              Backend.of("2001:db8::5", 8080)),
          res.backends());
      assertEquals(Optional.empty(), res.warning());
    }
  }

  @Test
  void search_domains_complete_short_names() throws Exception {
    dns.hosts("10.0.1.1 api.svc.test");
    DnsSettings s = settings().withSearch(List.of("svc.test"), 1);
    try (BackendResolver r = new DnsBackendResolver(s, java.time.Clock.systemUTC())) {
      assertEquals(List.of(Backend.of("10.0.1.1", 80)), resolveOne(r, query("api", 80)).backends());
    }
  }

  @Test
  void a_changed_record_is_picked_up_when_its_ttl_runs_out_and_signalled_once() throws Exception {
    dns.hosts("10.0.2.1 moving");
    try (BackendResolver r = new DnsBackendResolver(settings(), java.time.Clock.systemUTC())) {
      BackendQuery q = query("moving", 80);
      assertEquals(List.of(Backend.of("10.0.2.1", 80)), resolveOne(r, q).backends());
      LinkedBlockingQueue<String> signals = new LinkedBlockingQueue<>();
      r.onChange(signals::add);
      assertEquals(Optional.of(Set.of()), r.takeChanges(), "a first answer waited for is no news");
      dns.hosts("10.0.2.2 moving");
      String signal = signals.poll(10, TimeUnit.SECONDS);
      assertTrue(signal != null && signal.contains("moving"), "signal: " + signal);
      assertEquals(Optional.of(Set.of(q)), r.takeChanges(), "the signal's change, named");
      assertEquals(Optional.of(Set.of()), r.takeChanges(), "handed over once");
      assertEquals(List.of(Backend.of("10.0.2.2", 80)), resolveOne(r, q).backends());
      // unchanged answers after further TTL expiries signal nothing
      assertEquals(null, signals.poll(2500, TimeUnit.MILLISECONDS));
    }
  }

  @Test
  void a_name_that_vanishes_keeps_its_addresses_for_the_grace_period_then_empties()
      throws Exception {
    dns.hosts("10.0.3.1 flaky");
    try (BackendResolver r = new DnsBackendResolver(settings(), java.time.Clock.systemUTC())) {
      BackendQuery q = query("flaky", 80);
      assertEquals(1, resolveOne(r, q).backends().size());
      LinkedBlockingQueue<String> signals = new LinkedBlockingQueue<>();
      r.onChange(signals::add);
      long vanished = System.nanoTime();
      dns.hosts("10.9.9.9 other");
      Await.until(
          Duration.ofSeconds(10),
          "grace warning",
          () -> resolveOne(r, q).warning().map(w -> w.contains("stopped resolving")).orElse(false));
      assertEquals(1, resolveOne(r, q).backends().size(), "still serving in the grace period");
      assertTrue(signals.poll(10, TimeUnit.SECONDS) != null);
      long afterMs = (System.nanoTime() - vanished) / 1_000_000;
      assertTrue(afterMs >= 2000, "emptied only after the 2 s grace, was " + afterMs + " ms");
      assertEquals(List.of(), resolveOne(r, q).backends());
    }
  }

  @Test
  void an_unknown_name_has_no_backends_and_says_why() throws Exception {
    try (BackendResolver r = new DnsBackendResolver(settings(), java.time.Clock.systemUTC())) {
      Resolution res = resolveOne(r, query("nosuchservice", 80));
      assertEquals(List.of(), res.backends());
      assertTrue(res.warning().orElseThrow().contains("NXDOMAIN"), res.warning().toString());
    }
  }

  @Test
  void a_server_that_stops_answering_leaves_the_last_known_addresses_in_place() throws Exception {
    dns.hosts("10.0.4.1 steady");
    try (BackendResolver r = new DnsBackendResolver(settings(), java.time.Clock.systemUTC())) {
      BackendQuery q = query("steady", 80);
      assertEquals(List.of(Backend.of("10.0.4.1", 80)), resolveOne(r, q).backends());
      String pid = Long.toString(dns.pid());
      new ProcessBuilder("kill", "-STOP", pid).start().waitFor();
      try {
        Await.until(
            Duration.ofSeconds(15),
            "a refresh of steady timed out",
            () -> r.counters().get("dns_timeouts_total") > 0);
        Resolution res = resolveOne(r, q);
        assertEquals(List.of(Backend.of("10.0.4.1", 80)), res.backends(), "kept");
        assertTrue(res.warning().orElseThrow().contains("failing"), res.warning().toString());
        assertTrue(!res.pending(), "it had an answer: the daemon stays ready");
      } finally {
        new ProcessBuilder("kill", "-CONT", pid).start().waitFor();
      }
    }
  }

  @Test
  void a_name_whose_lookups_only_time_out_stays_unanswered() throws Exception {
    try (DatagramSocket silent = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
      InetSocketAddress mute = addressOf(silent);
      DnsSettings s =
          on(mute, Duration.ofMillis(300), FAST)
              .withLoad(DnsSettings.Records.A, 64, Duration.ofMillis(300));
      try (BackendResolver r = new DnsBackendResolver(s, java.time.Clock.systemUTC())) {
        BackendQuery q = query("unheard", 80);
        long start = System.nanoTime();
        assertTrue(resolveOne(r, q).pending(), "the start wait ended before any answer");
        long tookMs = (System.nanoTime() - start) / 1_000_000;
        assertTrue(tookMs < 2000, "bounded by the start timeout, took " + tookMs + " ms");
        Await.until(
            Duration.ofSeconds(15),
            "a lookup of unheard timed out",
            () -> r.counters().get("dns_timeouts_total") > 0);
        Resolution res = resolveOne(r, q);
        assertTrue(res.pending(), "a timeout is no answer: " + res);
        assertTrue(res.warning().orElseThrow().contains("time out"), res.warning().toString());
        assertEquals(List.of(), res.backends());
      }
    }
  }

  @Test
  void a_later_pass_waits_on_new_names_for_a_few_timeouts_not_the_start_timeout() throws Exception {
    try (DatagramSocket silent = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
      InetSocketAddress mute = addressOf(silent);
      DnsSettings s =
          on(mute, Duration.ofMillis(200), FAST)
              .withLoad(DnsSettings.Records.A, 64, Duration.ofSeconds(3));
      try (BackendResolver r = new DnsBackendResolver(s, java.time.Clock.systemUTC())) {
        BackendQuery first = query("first", 80);
        BackendQuery later = query("later", 80);
        long t0 = System.nanoTime();
        r.resolve(Set.of(first));
        long startMs = (System.nanoTime() - t0) / 1_000_000;
        assertTrue(startMs >= 2500, "the first resolve waits the start timeout: " + startMs);
        long t1 = System.nanoTime();
        assertTrue(r.resolve(Set.of(first, later), Set.of(later)).get(later).pending());
        long laterMs = (System.nanoTime() - t1) / 1_000_000;
        assertTrue(laterMs < 1500, "a later pass waited " + laterMs + " ms on a new name");
      }
    }
  }

  @Test
  void closing_ends_a_first_resolve_that_waits() throws Exception {
    try (DatagramSocket silent = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
      InetSocketAddress mute = addressOf(silent);
      DnsSettings s =
          on(mute, Duration.ofSeconds(5), FAST)
              .withLoad(DnsSettings.Records.A, 64, Duration.ofSeconds(30));
      BackendResolver r = new DnsBackendResolver(s, java.time.Clock.systemUTC());
      java.util.concurrent.CompletableFuture<Map<BackendQuery, Resolution>> resolving =
          java.util.concurrent.CompletableFuture.supplyAsync(
              () -> r.resolve(Set.of(query("closing", 80))));
      Await.until(
          Duration.ofSeconds(5),
          "the lookup in flight",
          () -> r.counters().get("dns_lookups_total") > 0);
      long t0 = System.nanoTime();
      r.close();
      Map<BackendQuery, Resolution> answer = resolving.get(5, TimeUnit.SECONDS);
      assertTrue(answer.get(query("closing", 80)).pending(), answer.toString());
      assertTrue(System.nanoTime() - t0 < 3 * SECOND, "returned at close, not after 30 s");
    }
  }

  @Test
  void records_in_another_order_are_the_same_answer() throws Exception {
    dns.hosts("10.0.7.2 shuffled", "10.0.7.1 shuffled");
    try (BackendResolver r = new DnsBackendResolver(settings(), java.time.Clock.systemUTC())) {
      BackendQuery q = query("shuffled", 80);
      assertEquals(2, resolveOne(r, q).backends().size());
      LinkedBlockingQueue<String> signals = new LinkedBlockingQueue<>();
      r.onChange(signals::add);
      dns.hosts("10.0.7.1 shuffled", "10.0.7.2 shuffled");
      long asked = dns.queries().stream().filter(x -> x.name().equals("shuffled")).count();
      Await.until(
          Duration.ofSeconds(10),
          "shuffled looked up twice more",
          () ->
              dns.queries().stream().filter(x -> x.name().equals("shuffled")).count() >= asked + 4);
      assertEquals(List.of(), List.copyOf(signals), "no change signalled");
      assertEquals(Optional.of(Set.of()), r.takeChanges());
    }
  }

  @Test
  void srv_records_give_ports_from_dns() throws Exception {
    dns.hosts("10.0.5.1 srv-1.test", "10.0.5.2 srv-2.test");
    try (BackendResolver r =
        new DnsBackendResolver(settings().withSrv(true), java.time.Clock.systemUTC())) {
      BackendQuery q = new BackendQuery(ServiceName.of("srvweb"), Optional.empty(), List.of());
      assertEquals(
          List.of(Backend.of("10.0.5.1", 8081), Backend.of("10.0.5.2", 8082)),
          resolveOne(r, q).backends());
    }
  }

  @Test
  void many_services_resolve_concurrently() throws Exception {
    List<String> lines = new ArrayList<>();
    Set<BackendQuery> queries = new HashSet<>();
    for (int i = 0; i < 300; i++) {
      lines.add("10.1." + (i / 250) + "." + (i % 250 + 1) + " many-" + i);
      queries.add(query("many-" + i, 80));
    }
    dns.hosts(lines.toArray(String[]::new));
    try (BackendResolver r = new DnsBackendResolver(settings(), java.time.Clock.systemUTC())) {
      long start = System.nanoTime();
      Map<BackendQuery, Resolution> all = r.resolve(queries);
      long tookMs = (System.nanoTime() - start) / 1_000_000;
      assertEquals(300, all.size());
      assertTrue(all.values().stream().allMatch(res -> res.backends().size() == 1), all.toString());
      assertTrue(tookMs < 5000, "300 names took " + tookMs + " ms");
      // forgetting services: a smaller interest set drops the rest
      BackendQuery one = query("many-0", 80);
      assertEquals(Set.of(one), r.resolve(Set.of(one)).keySet());
    }
  }

  @Test
  void settings_read_dns_servers_and_resolv_conf() throws Exception {
    assertEquals(
        List.of(new InetSocketAddress("10.0.0.2", 53), new InetSocketAddress("10.0.0.3", 5353)),
        DnsSettings.parseServers("10.0.0.2, 10.0.0.3:5353"));
    var file = java.nio.file.Files.createTempFile("resolv", ".conf");
    java.nio.file.Files.writeString(
        file, "# comment\nnameserver 127.0.0.53\nsearch a.test b.test\noptions edns0 ndots:3\n");
    DnsSettings s = DnsSettings.fromResolvConf(file);
    assertEquals(List.of(new InetSocketAddress("127.0.0.53", 53)), s.servers());
    assertEquals(List.of("a.test", "b.test"), s.search());
    assertEquals(3, s.ndots());
  }

  private static final long SECOND = TimeUnit.SECONDS.toNanos(1);

  private static DnsSettings on(InetSocketAddress server, Duration timeout, Duration floor) {
    return new DnsSettings(
        List.of(server),
        List.of(),
        1,
        timeout,
        floor,
        Duration.ofSeconds(60),
        Duration.ofSeconds(30),
        false);
  }

  private static Set<BackendQuery> names(String prefix, int n, List<String> hostLines) {
    Set<BackendQuery> queries = new HashSet<>();
    for (int i = 0; i < n; i++) {
      hostLines.add("10.2." + (i / 250) + "." + (i % 250 + 1) + " " + prefix + i);
      queries.add(query(prefix + i, 80));
    }
    return queries;
  }

  /**
   * Resolves {@code n} names once against {@code server}, then counts the queries it received for
   * them in buckets of {@code bucket} nanoseconds from {@code from} to {@code to} after that.
   */
  private static int[] refreshes(
      Dnsmasq server, DnsSettings s, String prefix, int n, long from, long to, long bucket)
      throws Exception {
    List<String> lines = new ArrayList<>();
    Set<BackendQuery> queries = names(prefix, n, lines);
    server.hosts(lines.toArray(String[]::new));
    try (BackendResolver r = new DnsBackendResolver(s, java.time.Clock.systemUTC())) {
      long t0 = System.nanoTime();
      assertTrue(r.resolve(queries).values().stream().allMatch(x -> x.backends().size() == 1));
      Await.until(
          Duration.ofSeconds(20),
          "queries received until " + to / SECOND + " s after the first lookups",
          () -> server.queries().stream().anyMatch(q -> q.nanos() - t0 > to));
      int[] counts = new int[(int) ((to - from) / bucket)];
      for (Dnsmasq.Query q : server.queries()) {
        long at = q.nanos() - t0;
        if (q.name().startsWith(prefix) && at >= from && at < to) {
          counts[(int) ((at - from) / bucket)]++;
        }
      }
      assertTrue(
          java.util.Arrays.stream(counts).sum() >= n * 2,
          "each name refreshed at least twice: " + java.util.Arrays.toString(counts));
      return counts;
    }
  }

  /** The busiest bucket holds at most {@code factor} times the mean. */
  private static void assertSmooth(int[] counts, int factor) {
    int total = java.util.Arrays.stream(counts).sum();
    int busiest = java.util.Arrays.stream(counts).max().orElseThrow();
    assertTrue(
        busiest <= factor * total / counts.length,
        "busiest " + busiest + " of " + java.util.Arrays.toString(counts));
  }

  @Test
  void refreshes_of_names_looked_up_together_spread_over_the_ttl() throws Exception {
    DnsSettings s =
        on(ttl3.address(), Duration.ofSeconds(2), Duration.ofSeconds(1))
            .withLoad(DnsSettings.Records.A, 64, Duration.ofSeconds(30));
    // Three TTLs of queries, as dnsmasq received them, by the second; in step, the refreshes
    // would all fall in the seconds at 3 s and 6 s (busiest second 4x the mean of [1 s, 9 s)).
    assertSmooth(refreshes(ttl3, s, "spread-", 300, SECOND, 9 * SECOND, SECOND), 2);
  }

  @Test
  void names_whose_ttl_is_under_the_floor_part_too() throws Exception {
    // TTL 1 s (as low as Consul's 0 after the floor): refreshed every floor, 1 s. By the tenth of
    // a second from 1 s to 5 s: in step, each second's refreshes would fall in one tenth.
    DnsSettings s =
        on(dns.address(), Duration.ofSeconds(1), Duration.ofSeconds(1))
            .withLoad(DnsSettings.Records.A, 64, Duration.ofSeconds(30));
    assertSmooth(refreshes(dns, s, "short-", 200, SECOND, 5 * SECOND, SECOND / 10), 3);
  }

  @Test
  void the_first_resolve_waits_for_every_first_answer_through_a_narrow_gate() throws Exception {
    List<String> lines = new ArrayList<>();
    Set<BackendQuery> queries = names("gated-", 200, lines);
    dns.hosts(lines.toArray(String[]::new));
    DnsSettings s = settings().withLoad(DnsSettings.Records.BOTH, 2, Duration.ofSeconds(30));
    try (BackendResolver r = new DnsBackendResolver(s, java.time.Clock.systemUTC())) {
      Map<BackendQuery, Resolution> all = r.resolve(queries);
      assertTrue(
          all.values().stream().noneMatch(Resolution::pending),
          "none left waiting: " + all.values().stream().filter(Resolution::pending).count());
      assertTrue(all.values().stream().allMatch(x -> x.backends().size() == 1), all.toString());
    }
  }

  @Test
  void a_silent_server_sees_only_the_lookups_in_flight_and_the_start_wait_is_bounded()
      throws Exception {
    try (DatagramSocket silent = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
      InetSocketAddress mute = addressOf(silent);
      DnsSettings s =
          on(mute, Duration.ofSeconds(3), FAST)
              .withLoad(DnsSettings.Records.A, 4, Duration.ofMillis(500));
      Set<BackendQuery> queries = new HashSet<>();
      for (int i = 0; i < 40; i++) {
        queries.add(query("quiet-" + i, 80));
      }
      try (BackendResolver r = new DnsBackendResolver(s, java.time.Clock.systemUTC())) {
        long start = System.nanoTime();
        Map<BackendQuery, Resolution> all = r.resolve(queries);
        long tookMs = (System.nanoTime() - start) / 1_000_000;
        assertTrue(tookMs < 2000, "the start wait ends at its timeout, took " + tookMs + " ms");
        assertTrue(all.values().stream().allMatch(Resolution::pending), all.toString());
        // Until the first lookups time out (3 s), only the 4 in flight reach the server.
        Set<String> seen = new HashSet<>();
        silent.setSoTimeout(200);
        long until = start + 2 * SECOND;
        byte[] buf = new byte[512];
        while (System.nanoTime() < until) {
          java.net.DatagramPacket p = new java.net.DatagramPacket(buf, buf.length);
          try {
            silent.receive(p);
          } catch (java.net.SocketTimeoutException e) {
            continue;
          }
          seen.add(new org.xbill.DNS.Message(p.getData()).getQuestion().getName().toString());
        }
        assertTrue(
            !seen.isEmpty() && seen.size() <= 4, "names the server was asked about: " + seen);
      }
    }
  }

  @Test
  void names_that_keep_failing_back_off() throws Exception {
    try (DatagramSocket failing = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
      InetSocketAddress server = addressOf(failing);
      Duration floor = Duration.ofMillis(100);
      DnsSettings s =
          on(server, Duration.ofSeconds(1), floor)
              .withLoad(DnsSettings.Records.A, 64, Duration.ofSeconds(5));
      Set<BackendQuery> queries = new HashSet<>();
      for (int i = 0; i < 20; i++) {
        queries.add(query("down-" + i, 80));
      }
      try (BackendResolver r = new DnsBackendResolver(s, java.time.Clock.systemUTC())) {
        // A server that answers every query at once with SERVFAIL; counting what it gets over
        // 4 s is the measurement itself. Retried at the floor, each name would be asked about
        // 40 times; backing off (0.1, 0.2, 0.4 ... s), about 6.
        Thread answering = new Thread(() -> serveFailures(failing));
        answering.setDaemon(true);
        answering.start();
        r.resolve(queries);
        long start = System.nanoTime();
        while (answering.isAlive() && System.nanoTime() - start < 4 * SECOND) {
          java.util.concurrent.locks.LockSupport.parkNanos(SECOND / 10);
        }
        int asked = served.get();
        long late = servedAt.stream().filter(at -> at - start >= 2 * SECOND).count();
        // Retried at a constant 400 ms, each name would be asked ~10 times, 5 of them late.
        assertTrue(asked >= 20 * 3, "every name retried: " + asked);
        assertTrue(asked <= 20 * 8, "20 names asked about " + asked + " times in 4 s");
        assertTrue(late <= 20 * 2, "the retries slow down: " + late + " in the last 2 s");
      }
    }
  }

  private final java.util.concurrent.atomic.AtomicInteger served =
      new java.util.concurrent.atomic.AtomicInteger();
  private final java.util.Queue<Long> servedAt = new java.util.concurrent.ConcurrentLinkedQueue<>();

  /** Answers each query on {@code socket} with SERVFAIL until the socket closes. */
  private void serveFailures(DatagramSocket socket) {
    byte[] buf = new byte[512];
    while (!socket.isClosed()) {
      try {
        java.net.DatagramPacket p = new java.net.DatagramPacket(buf, buf.length);
        socket.receive(p);
        org.xbill.DNS.Message m = new org.xbill.DNS.Message(p.getData());
        m.getHeader().setFlag(org.xbill.DNS.Flags.QR);
        m.getHeader().setRcode(org.xbill.DNS.Rcode.SERVFAIL);
        byte[] out = m.toWire();
        socket.send(new java.net.DatagramPacket(out, out.length, p.getSocketAddress()));
        served.incrementAndGet();
        servedAt.add(System.nanoTime());
      } catch (IOException e) {
        return;
      }
    }
  }

  @Test
  void records_a_asks_for_ipv4_only() throws Exception {
    dns.hosts("10.0.6.1 dual", "2001:db8::6 dual", "2001:db8::7 v6only");
    DnsSettings s = settings().withLoad(DnsSettings.Records.A, 64, Duration.ofSeconds(30));
    try (BackendResolver r = new DnsBackendResolver(s, java.time.Clock.systemUTC())) {
      assertEquals(
          List.of(Backend.of("10.0.6.1", 80)), resolveOne(r, query("dual", 80)).backends());
      assertEquals(List.of(), resolveOne(r, query("v6only", 80)).backends());
      // dnsmasq's log of the queries is read on another thread: wait for the A queries to show
      Await.until(
          Duration.ofSeconds(5),
          "dnsmasq logged the A queries",
          () ->
              dns.queries().stream()
                  .filter(q -> q.type().equals("A"))
                  .map(Dnsmasq.Query::name)
                  .collect(java.util.stream.Collectors.toSet())
                  .containsAll(Set.of("dual", "v6only")));
    }
    List<Dnsmasq.Query> asked =
        dns.queries().stream()
            .filter(q -> q.name().equals("dual") || q.name().equals("v6only"))
            .toList();
    assertTrue(asked.stream().noneMatch(q -> q.type().equals("AAAA")), asked.toString());
  }

  @Test
  void a_name_replaced_by_another_in_one_pass_is_forgotten() throws Exception {
    dns.hosts("10.0.8.1 keep", "10.0.8.2 old", "10.0.8.3 new");
    try (BackendResolver r = new DnsBackendResolver(settings(), java.time.Clock.systemUTC())) {
      BackendQuery keep = query("keep", 80);
      BackendQuery old = query("old", 80);
      BackendQuery fresh = query("new", 80);
      r.resolve(Set.of(keep, old));
      // as many names as before: one gone, one new
      assertEquals(1, r.resolve(Set.of(keep, fresh), Set.of(fresh)).get(fresh).backends().size());
      assertEquals(2L, r.counters().get("dns_names"), "old is no longer looked up");
    }
  }

  @Test
  void a_server_that_drops_aaaa_queries_still_answers_for_the_name() throws Exception {
    try (DatagramSocket server = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
      // NXDOMAIN to every A query; AAAA queries dropped, as some forwarders do
      Thread answering =
          new Thread(
              () -> {
                byte[] buf = new byte[512];
                while (!server.isClosed()) {
                  try {
                    java.net.DatagramPacket p = new java.net.DatagramPacket(buf, buf.length);
                    server.receive(p);
                    org.xbill.DNS.Message m = new org.xbill.DNS.Message(p.getData());
                    if (m.getQuestion().getType() == org.xbill.DNS.Type.A) {
                      m.getHeader().setFlag(org.xbill.DNS.Flags.QR);
                      m.getHeader().setRcode(org.xbill.DNS.Rcode.NXDOMAIN);
                      byte[] out = m.toWire();
                      server.send(
                          new java.net.DatagramPacket(out, out.length, p.getSocketAddress()));
                    }
                  } catch (IOException e) {
                    return;
                  }
                }
              });
      answering.setDaemon(true);
      answering.start();
      InetSocketAddress address = addressOf(server);
      DnsSettings s =
          on(address, Duration.ofMillis(300), FAST)
              .withLoad(DnsSettings.Records.BOTH, 64, Duration.ofSeconds(5));
      try (BackendResolver r = new DnsBackendResolver(s, java.time.Clock.systemUTC())) {
        Resolution res = resolveOne(r, query("halfheard", 80));
        assertTrue(!res.pending(), "the A answer is an answer: " + res);
        assertEquals(List.of(), res.backends());
      }
    }
  }
}
