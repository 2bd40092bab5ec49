package io.haproxyconfd.it.consul;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.ecwid.consul.v1.ConsulClient;
import io.haproxyconfd.adapters.consul.Consul;
import io.haproxyconfd.adapters.consul.ConsulSettings;
import io.haproxyconfd.domain.Await;
import io.haproxyconfd.domain.Backend;
import io.haproxyconfd.domain.ProxyId;
import io.haproxyconfd.domain.ServiceName;
import io.haproxyconfd.ports.BackendQuery;
import io.haproxyconfd.ports.BackendResolver;
import io.haproxyconfd.ports.KeyValueSource;
import io.haproxyconfd.ports.Mirror;
import io.haproxyconfd.ports.StoreException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The Consul adapter. Runs against the emulator, or against a real agent when CONSUL_HTTP_ADDR is
 * set (with CONSUL_HTTP_TOKEN if its ACLs need one); tests that restart the server or need a
 * token-protected server run against the emulator only.
 */
class ConsulIT {
  static final String REAL = ConsulTarget.REAL;
  static ConsulTarget consul;
  static ConsulEmulator emulator;
  static String address;
  static ConsulClient writer;

  @BeforeAll
  static void start() throws Exception {
    consul = ConsulTarget.start();
    emulator = consul.emulator();
    address = consul.address();
    writer = consul.writer();
  }

  @AfterAll
  static void stop() {
    consul.close();
  }

  static ConsulSettings settings() {
    return consul.settings();
  }

  /** Writes with consul-api, retrying a request cut off by a server restart. */
  static void put(String key, String value) {
    Await.until(
        Duration.ofSeconds(10),
        "write " + key,
        () ->
            writer
                .setKVValue(key, value, System.getenv("CONSUL_HTTP_TOKEN"), null, null)
                .getValue());
  }

  @Test
  void a_thousand_rapid_changes_end_in_the_exact_final_state() throws Exception {
    ProxyId proxy = new ProxyId("rapid");
    try (KeyValueSource source = Consul.keyValueSource(settings());
        Mirror mirror = new Mirror(source, proxy)) {
      Map<String, String> expected = new TreeMap<>();
      for (int i = 0; i < 1000; i++) {
        String key = "services/s" + (i % 40) + "/port";
        expected.put(key, Integer.toString(1000 + i));
        put("haproxy-rapid/" + key, Integer.toString(1000 + i));
      }
      Await.until(
          Duration.ofSeconds(20),
          () -> "final state, have " + mirror.values().size(),
          () -> mirror.values().equals(expected));
      assertTrue(mirror.reads.get() < 1000, mirror.reads.get() + " reads: signals were merged");
    }
  }

  @Test
  void a_server_restart_mid_stream_loses_no_update() throws Exception {
    assumeTrue(emulator != null, "needs the emulator: a real agent is not restarted by tests");
    ProxyId proxy = new ProxyId("restart");
    try (KeyValueSource source = Consul.keyValueSource(settings());
        Mirror mirror = new Mirror(source, proxy)) {
      put("haproxy-restart/services/web/port", "1");
      Await.until(
          Duration.ofSeconds(10),
          "first",
          () -> "1".equals(mirror.values().get("services/web/port")));
      emulator.restart();
      for (int i = 2; i <= 20; i++) {
        put("haproxy-restart/services/web/port", Integer.toString(i));
      }
      Await.until(
          Duration.ofSeconds(15),
          () -> "last, have " + mirror.values(),
          () -> "20".equals(mirror.values().get("services/web/port")));
    }
  }

  /** An agent with ACLs on: "admin" may do anything, the others what their names say. */
  private static ConsulEmulator guarded() throws Exception {
    return ConsulEmulator.withAcls(
        Map.of(
            "admin", ConsulEmulator.Policy.ALL,
            "other-prefix", new ConsulEmulator.Policy(List.of("haproxy-other/"), true),
            "half", new ConsulEmulator.Policy(List.of("haproxy-x/services/a/"), true),
            "kv-only", new ConsulEmulator.Policy(List.of(""), false)));
  }

  private static ConsulSettings settings(ConsulEmulator e, String token) {
    ConsulSettings s =
        ConsulSettings.of(e.address()).withTimings(Duration.ofSeconds(2), Duration.ofSeconds(3));
    return token == null ? s : s.withToken(token);
  }

  @Test
  void keys_the_acls_hide_are_refused_never_read_as_empty_or_partial() throws Exception {
    assumeTrue(REAL == null, "the emulator plays an ACL-protected agent");
    try (ConsulEmulator acl = guarded()) {
      String[] hp = acl.address().split(":");
      ConsulClient admin = new ConsulClient(hp[0], Integer.parseInt(hp[1]));
      admin.setKVValue("haproxy-x/services/a/domain", "a.example.org", "admin", null, null);
      admin.setKVValue("haproxy-x/services/b/domain", "b.example.org", "admin", null, null);
      // No token (the anonymous one), a token for another prefix, one for half of the prefix:
      // Consul answers 404 or a shorter list, marked as filtered, which must not pass for keys.
      for (String token : java.util.Arrays.asList(null, "other-prefix", "half")) {
        try (KeyValueSource source = Consul.keyValueSource(settings(acl, token))) {
          StoreException e =
              assertThrows(StoreException.class, () -> source.read(new ProxyId("x")), token);
          assertTrue(e.isPermanent(), e.getMessage());
          assertTrue(e.getMessage().contains("CONSUL_HTTP_TOKEN"), e.getMessage());
        }
      }
      try (KeyValueSource source = Consul.keyValueSource(settings(acl, "no-such-token"))) {
        StoreException e = assertThrows(StoreException.class, () -> source.read(new ProxyId("x")));
        assertTrue(e.isPermanent() && e.getMessage().contains("ACL not found"), e.getMessage());
      }
      try (KeyValueSource source = Consul.keyValueSource(settings(acl, "admin"))) {
        assertEquals(2, source.read(new ProxyId("x")).entries().size());
      }
    }
  }

  @Test
  void the_token_travels_in_a_header_never_in_the_query() throws Exception {
    assumeTrue(REAL == null, "reads the requests the emulator received");
    try (ConsulEmulator acl = guarded()) {
      new CatalogWrites(acl.address(), "admin")
          .instance("n1", "10.0.0.1", "api", "api-1", "", 8080, "passing");
      String[] hp = acl.address().split(":");
      new ConsulClient(hp[0], Integer.parseInt(hp[1]))
          .setKVValue("haproxy-x/services/api/domain", "api.example.org", "admin", null, null);
      BackendQuery q = new BackendQuery(ServiceName.of("api"), Optional.empty(), List.of());
      int before = acl.queries().size(); // the test's own writes went with consul-api
      try (KeyValueSource source = Consul.keyValueSource(settings(acl, "admin"));
          Mirror mirror = new Mirror(source, new ProxyId("x"));
          BackendResolver catalog = Consul.catalog(settings(acl, "admin"))) {
        Await.until(Duration.ofSeconds(5), "read", () -> mirror.values().size() == 1);
        assertEquals(
            List.of(Backend.of("10.0.0.1", 8080)), catalog.resolve(Set.of(q)).get(q).backends());
        // The read, the catalog's answer and the watch's blocking query, which may come last.
        Await.until(
            Duration.ofSeconds(5),
            () -> "three queries: " + acl.queries().subList(before, acl.queries().size()),
            () -> acl.queries().size() - before >= 3);
      }
      List<String> adapters = acl.queries().subList(before, acl.queries().size());
      assertTrue(
          adapters.stream().noneMatch(query -> query.contains("token=")), adapters.toString());
    }
  }

  @Test
  void instances_the_acls_hide_are_a_refusal_not_an_empty_service() throws Exception {
    assumeTrue(REAL == null, "the emulator plays an ACL-protected agent");
    try (ConsulEmulator acl = guarded()) {
      new CatalogWrites(acl.address(), "admin")
          .instance("n1", "10.0.0.1", "api", "api-1", "", 8080, "passing");
      BackendQuery q = new BackendQuery(ServiceName.of("api"), Optional.empty(), List.of());
      try (BackendResolver catalog = Consul.catalog(settings(acl, "kv-only"))) {
        var r = catalog.resolve(Set.of(q)).get(q);
        assertTrue(r.refused(), r.toString());
        assertTrue(r.warning().orElseThrow().contains("CONSUL_HTTP_TOKEN"), r.toString());
      }
      try (BackendResolver catalog = Consul.catalog(settings(acl, "admin"))) {
        assertEquals(
            List.of(Backend.of("10.0.0.1", 8080)), catalog.resolve(Set.of(q)).get(q).backends());
      }
    }
  }

  @Test
  void an_unknown_datacenter_is_refused_naming_the_setting() throws Exception {
    ConsulSettings s = settings().withDatacenter("no-such-dc");
    try (KeyValueSource source = Consul.keyValueSource(s)) {
      StoreException e = assertThrows(StoreException.class, () -> source.read(new ProxyId("x")));
      assertTrue(e.isPermanent() && e.getMessage().contains("CONSUL_DATACENTER"), e.getMessage());
    }
    BackendQuery q = new BackendQuery(ServiceName.of("api"), Optional.empty(), List.of());
    try (BackendResolver catalog = Consul.catalog(s)) {
      var r = catalog.resolve(Set.of(q)).get(q);
      assertTrue(
          r.refused() && r.warning().orElseThrow().contains("CONSUL_DATACENTER"), r.toString());
    }
  }

  @Test
  void writes_under_another_prefix_do_not_wake_the_watch() throws Exception {
    ProxyId proxy = new ProxyId("quiet");
    put("haproxy-quiet/services/web/domain", "quiet.example.org");
    try (KeyValueSource source = Consul.keyValueSource(settings());
        Mirror mirror = new Mirror(source, proxy)) {
      Await.until(Duration.ofSeconds(5), "first read", () -> mirror.values().size() == 1);
      int reads = mirror.reads.get();
      for (int i = 0; i < 20; i++) {
        put("haproxy-noisy/services/s" + i + "/domain", "noisy.example.org");
      }
      put("haproxy-quiet/services/web/port", "80");
      Await.until(Duration.ofSeconds(5), "own write seen", () -> mirror.values().size() == 2);
      assertTrue(
          mirror.reads.get() - reads <= 2,
          (mirror.reads.get() - reads) + " reads for 20 foreign writes and one of ours");
    }
  }

  @Test
  void an_index_that_goes_backwards_starts_the_watch_over() throws Exception {
    assumeTrue(REAL == null, "needs the emulator: a real agent is not restarted by tests");
    ProxyId proxy = new ProxyId("backwards");
    for (int i = 0; i < 30; i++) {
      put("haproxy-backwards/services/web/port", Integer.toString(1000 + i));
    }
    try (KeyValueSource source = Consul.keyValueSource(settings(emulator, null));
        Mirror mirror = new Mirror(source, proxy)) {
      Await.until(
          Duration.ofSeconds(5),
          "first read",
          () -> "1029".equals(mirror.values().get("services/web/port")));
      // A dev agent loses everything and counts from 1 again: the next writes have lower
      // indexes than the one the watch waits beyond.
      emulator.restartAsDevAgent();
      put("haproxy-backwards/services/web/port", "80");
      Await.until(
          Duration.ofSeconds(10),
          () -> "the write after the restart, have " + mirror.values(),
          () -> "80".equals(mirror.values().get("services/web/port")));
    }
  }

  @Test
  void an_unreachable_agent_is_an_error_within_the_timeout() throws Exception {
    int port;
    try (var s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort();
    }
    try (KeyValueSource source = Consul.keyValueSource(ConsulSettings.of("127.0.0.1:" + port))) {
      StoreException e = assertThrows(StoreException.class, () -> source.read(new ProxyId("x")));
      assertTrue(
          !e.isPermanent() && e.getMessage().startsWith("Consul unavailable"), e.getMessage());
    }
  }

  @Test
  void reaped_tombstones_lower_the_index_and_the_watch_reads_again() throws Exception {
    assumeTrue(REAL == null, "reaping tombstones is the server's own business");
    ProxyId proxy = new ProxyId("reaped");
    put("haproxy-reaped/services/web/domain", "reaped.example.org");
    put("haproxy-reaped/services/web/port", "80");
    try (KeyValueSource source = Consul.keyValueSource(settings(emulator, null));
        Mirror mirror = new Mirror(source, proxy)) {
      Await.until(Duration.ofSeconds(5), "first read", () -> mirror.values().size() == 2);
      writer.deleteKVValue("haproxy-reaped/services/web/port");
      Await.until(Duration.ofSeconds(5), "delete seen", () -> mirror.values().size() == 1);
      int reads = mirror.reads.get();
      // The prefix's index was its tombstone's; without it, it is lower than the one the watch
      // waits beyond: Consul's documentation says to start over from 0, and read again.
      emulator.reapTombstones();
      Await.until(
          Duration.ofSeconds(10),
          "a read after the index went back",
          () -> mirror.reads.get() > reads);
      assertEquals(java.util.Set.of("services/web/domain"), mirror.values().keySet());
    }
  }

  /** A node name of this run's own, so that a real agent's catalog is left as it was. */
  private static String node(String name) {
    return "confd-it-" + name;
  }

  @Test
  void the_catalog_gives_passing_instances_at_the_right_address_and_signals_changes()
      throws Exception {
    CatalogWrites catalogWrites = new CatalogWrites(address, System.getenv("CONSUL_HTTP_TOKEN"));
    String n1 = node("n1");
    String n2 = node("n2");
    try {
      catalogWrites.instance(n1, "10.0.0.1", "confd-api", "api-1", "10.0.1.1", 8080, "passing");
      // No service address: Consul leaves it empty and the node's address applies.
      catalogWrites.instance(n2, "10.0.0.2", "confd-api", "api-2", "", 8080, "critical");
      catalogWrites.nodeCheck(n2, "10.0.0.2", "serfHealth", "passing");
      BackendQuery q = new BackendQuery(ServiceName.of("confd-api"), Optional.empty(), List.of());
      try (BackendResolver catalog = Consul.catalog(settings())) {
        assertEquals(
            List.of(Backend.of("10.0.1.1", 8080)),
            catalog.resolve(Set.of(q)).get(q).backends(),
            "only passing");
        var signals = new java.util.concurrent.LinkedBlockingQueue<String>();
        catalog.onChange(signals::add);
        catalogWrites.instance(n2, "10.0.0.2", "confd-api", "api-2", "", 8080, "passing");
        Await.until(
            Duration.ofSeconds(5),
            "api-2 passing, at its node's address",
            () ->
                catalog
                    .resolve(Set.of(q))
                    .get(q)
                    .backends()
                    .equals(List.of(Backend.of("10.0.0.2", 8080), Backend.of("10.0.1.1", 8080))));
        Await.until(
            Duration.ofSeconds(5),
            () -> "a signal naming confd-api: " + signals,
            () -> signals.stream().anyMatch(sig -> sig.contains("confd-api")));
        // The node moves, its checks unchanged: its instance without an address of its own moves
        // with it, which only the nodes' watch can tell.
        catalogWrites.nodeCheck(n2, "10.0.0.3", "serfHealth", "passing");
        Await.until(
            Duration.ofSeconds(5),
            "api-2 at its node's new address",
            () ->
                catalog
                    .resolve(Set.of(q))
                    .get(q)
                    .backends()
                    .equals(List.of(Backend.of("10.0.0.3", 8080), Backend.of("10.0.1.1", 8080))));
        // A node-level check counts for every instance on the node.
        catalogWrites.nodeCheck(n2, "10.0.0.3", "serfHealth", "critical");
        Await.until(
            Duration.ofSeconds(5),
            "api-2 out with its node",
            () ->
                catalog
                    .resolve(Set.of(q))
                    .get(q)
                    .backends()
                    .equals(List.of(Backend.of("10.0.1.1", 8080))));
        BackendQuery none =
            new BackendQuery(ServiceName.of("confd-ghost"), Optional.empty(), List.of());
        assertTrue(
            catalog
                .resolve(Set.of(none))
                .get(none)
                .warning()
                .orElseThrow()
                .contains("no passing instance"));
      }
    } finally {
      catalogWrites.removeNode(n1);
      catalogWrites.removeNode(n2);
    }
  }

  @Test
  void the_catalog_watch_starts_over_when_the_index_goes_backwards() throws Exception {
    assumeTrue(
        REAL == null, "needs the emulator: a real agent's snapshot is not restored by tests");
    try (ConsulEmulator own = ConsulEmulator.start(Optional.empty())) {
      CatalogWrites writes = new CatalogWrites(own.address(), null);
      for (int i = 0; i < 20; i++) {
        writes.instance("n1", "10.0.0.1", "api", "api-1", "", 8000 + i, "passing");
      }
      BackendQuery q = new BackendQuery(ServiceName.of("api"), Optional.empty(), List.of());
      try (BackendResolver catalog = Consul.catalog(settings(own, null))) {
        var signals = new java.util.concurrent.LinkedBlockingQueue<String>();
        catalog.onChange(signals::add);
        assertEquals(
            List.of(Backend.of("10.0.0.1", 8019)), catalog.resolve(Set.of(q)).get(q).backends());
        // The indexes go back to 1 with the connections open: each watch waits beyond an index
        // the agent will only reach again after many changes.
        signals.clear();
        own.restoreSnapshot();
        writes.instance("n1", "10.0.0.1", "api", "api-1", "", 80, "passing");
        writes.instance("n1", "10.0.0.1", "api", "api-2", "", 81, "critical");
        writes.instance("n1", "10.0.0.1", "api", "api-2", "", 81, "passing");
        // Only a watch that starts over signals it; resolve() alone answers from what it has.
        Await.until(
            Duration.ofSeconds(10),
            () -> {
              List<String> seen = own.queries();
              return "a signal after the restore; the last requests: "
                  + seen.subList(Math.max(0, seen.size() - 12), seen.size());
            },
            () -> !signals.isEmpty());
        Await.until(
            Duration.ofSeconds(5),
            () -> "the instances after the restore: " + catalog.resolve(Set.of(q)).get(q),
            () ->
                catalog
                    .resolve(Set.of(q))
                    .get(q)
                    .backends()
                    .equals(List.of(Backend.of("10.0.0.1", 80), Backend.of("10.0.0.1", 81))));
      }
    }
  }

  @Test
  void a_health_change_reads_only_its_own_service_again() throws Exception {
    assumeTrue(REAL == null, "counts the requests the emulator received");
    try (ConsulEmulator own = ConsulEmulator.start(Optional.empty())) {
      Set<BackendQuery> queries = new java.util.HashSet<>();
      for (int i = 0; i < 100; i++) {
        own.register("s" + i, new ConsulEmulator.Instance("s" + i + "-1", "10.0.0.1", 80, true));
        queries.add(new BackendQuery(ServiceName.of("s" + i), Optional.empty(), List.of()));
      }
      BackendQuery s42 = new BackendQuery(ServiceName.of("s42"), Optional.empty(), List.of());
      try (BackendResolver catalog = Consul.catalog(settings(own, null))) {
        var signals = new java.util.concurrent.LinkedBlockingQueue<String>();
        catalog.onChange(signals::add);
        catalog.resolve(queries);
        // Let the watches' first answers, and the reads they ask for, settle.
        Await.until(
            Duration.ofSeconds(5),
            "the watches running",
            () ->
                own.queries().stream().filter(x -> x.contains("index=")).count() >= 3
                    && catalog.resolve(queries).size() == 100);
        int before = own.queries().size();
        own.register("s42", new ConsulEmulator.Instance("s42-1", "10.0.0.1", 80, false));
        Await.until(
            Duration.ofSeconds(5),
            "s42 has no passing instance",
            () -> catalog.resolve(queries).get(s42).backends().isEmpty());
        List<String> after = own.queries().subList(before, own.queries().size());
        long reads = after.stream().filter(x -> x.startsWith("/v1/health/service/")).count();
        assertTrue(reads <= 2, reads + " service reads for one check's change: " + after);
        assertTrue(signals.stream().anyMatch(x -> x.contains("s42")), signals.toString());
      }
    }
  }
}
