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
import io.haproxyconfd.domain.KeySnapshot;
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
  static final String REAL = System.getenv("CONSUL_HTTP_ADDR");
  static ConsulEmulator emulator;
  static String address;
  static ConsulClient writer;

  @BeforeAll
  static void start() throws Exception {
    if (REAL == null) {
      emulator = ConsulEmulator.start(Optional.empty());
      address = emulator.address();
    } else {
      address = REAL.replaceFirst("^https?://", "");
    }
    String[] hp = address.split(":");
    writer = new ConsulClient(hp[0], Integer.parseInt(hp[1]));
  }

  @AfterAll
  static void stop() {
    if (emulator != null) {
      emulator.close();
    }
  }

  static ConsulSettings settings() {
    ConsulSettings s =
        ConsulSettings.of(address).withTimings(Duration.ofSeconds(10), Duration.ofSeconds(3));
    String token = System.getenv("CONSUL_HTTP_TOKEN");
    return REAL != null && token != null ? s.withToken(token) : s;
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
  void a_missing_prefix_is_empty_and_still_has_an_index() throws Exception {
    try (KeyValueSource source = Consul.keyValueSource(settings())) {
      KeySnapshot s = source.read(new ProxyId("nothing-here"));
      assertTrue(s.entries().isEmpty());
      assertTrue(s.revision() > 0, "X-Consul-Index of the 404");
    }
  }

  @Test
  void puts_and_deletes_are_signalled_and_read_relative_to_the_prefix() throws Exception {
    ProxyId proxy = new ProxyId("kv");
    try (KeyValueSource source = Consul.keyValueSource(settings());
        Mirror mirror = new Mirror(source, proxy)) {
      put("haproxy-kv/services/web/domain", "example.org");
      put("haproxy-other/services/web/domain", "other.org");
      Await.until(
          Duration.ofSeconds(10),
          "put seen",
          () -> "example.org".equals(mirror.values().get("services/web/domain")));
      assertEquals(Set.of("services/web/domain"), mirror.values().keySet());
      writer.deleteKVValues("haproxy-kv/services/", System.getenv("CONSUL_HTTP_TOKEN"));
      Await.until(Duration.ofSeconds(10), "delete seen", () -> mirror.values().isEmpty());
    }
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

  @Test
  void a_missing_or_wrong_token_is_refused_clearly_and_the_right_one_reads() throws Exception {
    assumeTrue(REAL == null, "the emulator plays an ACL-protected agent");
    try (ConsulEmulator guarded = ConsulEmulator.start(Optional.of("s3cret"))) {
      ConsulSettings base =
          ConsulSettings.of(guarded.address())
              .withTimings(Duration.ofSeconds(10), Duration.ofSeconds(3));
      for (ConsulSettings s : List.of(base, base.withToken("wrong"))) {
        try (KeyValueSource source = Consul.keyValueSource(s)) {
          StoreException e =
              assertThrows(StoreException.class, () -> source.read(new ProxyId("x")));
          assertTrue(e.isPermanent(), e.getMessage());
          assertTrue(e.getMessage().contains("CONSUL_HTTP_TOKEN"), e.getMessage());
        }
      }
      try (KeyValueSource source = Consul.keyValueSource(base.withToken("s3cret"))) {
        assertTrue(source.read(new ProxyId("x")).entries().isEmpty());
      }
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
  void the_catalog_gives_passing_instances_and_signals_changes() throws Exception {
    assumeTrue(emulator != null, "registers instances through the emulator");
    emulator.register("api", new ConsulEmulator.Instance("api-1", "10.0.0.1", 8080, true));
    emulator.register("api", new ConsulEmulator.Instance("api-2", "10.0.0.2", 8080, false));
    BackendQuery q = new BackendQuery(ServiceName.of("api"), Optional.empty(), List.of());
    try (BackendResolver catalog = Consul.catalog(settings())) {
      assertEquals(
          List.of(Backend.of("10.0.0.1", 8080)),
          catalog.resolve(Set.of(q)).get(q).backends(),
          "only passing");
      var signals = new java.util.concurrent.LinkedBlockingQueue<String>();
      catalog.onChange(signals::add);
      emulator.register("api", new ConsulEmulator.Instance("api-2", "10.0.0.2", 8080, true));
      String signal = signals.poll(10, java.util.concurrent.TimeUnit.SECONDS);
      assertTrue(signal != null && signal.contains("api"), "signal: " + signal);
      assertEquals(
          List.of(Backend.of("10.0.0.1", 8080), Backend.of("10.0.0.2", 8080)),
          catalog.resolve(Set.of(q)).get(q).backends());
      BackendQuery none = new BackendQuery(ServiceName.of("ghost"), Optional.empty(), List.of());
      assertTrue(
          catalog
              .resolve(Set.of(none))
              .get(none)
              .warning()
              .orElseThrow()
              .contains("no passing instance"));
    }
  }
}
