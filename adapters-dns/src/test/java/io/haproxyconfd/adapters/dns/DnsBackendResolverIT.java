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
      dns.hosts("10.0.2.2 moving");
      String signal = signals.poll(10, TimeUnit.SECONDS);
      assertTrue(signal != null && signal.contains("moving"), "signal: " + signal);
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
  void a_silent_server_times_out_and_keeps_the_last_known_addresses() throws Exception {
    try (DatagramSocket silent = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
      dns.hosts("10.0.4.1 steady");
      // first the real server, then only a server that never answers
      DnsSettings good = settings();
      InetSocketAddress mute =
          new InetSocketAddress(InetAddress.getLoopbackAddress(), silent.getLocalPort());
      try (BackendResolver r = new DnsBackendResolver(good, java.time.Clock.systemUTC());
          BackendResolver m =
              new DnsBackendResolver(
                  new DnsSettings(
                      List.of(mute),
                      List.of(),
                      1,
                      Duration.ofMillis(300),
                      FAST,
                      Duration.ofSeconds(60),
                      Duration.ofSeconds(2),
                      false),
                  java.time.Clock.systemUTC())) {
        assertEquals(1, resolveOne(r, query("steady", 80)).backends().size());
        long start = System.nanoTime();
        Resolution res = resolveOne(m, query("steady", 80));
        long tookMs = (System.nanoTime() - start) / 1_000_000;
        assertEquals(List.of(), res.backends());
        assertTrue(res.warning().orElseThrow().contains("failing"), res.warning().toString());
        assertTrue(tookMs < 3000, "bounded by the timeout, took " + tookMs + " ms");
      }
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
}
