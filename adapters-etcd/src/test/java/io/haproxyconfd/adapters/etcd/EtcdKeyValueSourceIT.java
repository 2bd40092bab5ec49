package io.haproxyconfd.adapters.etcd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.etcd.jetcd.Client;
import io.etcd.jetcd.options.DeleteOption;
import io.haproxyconfd.domain.Await;
import io.haproxyconfd.domain.KeySnapshot;
import io.haproxyconfd.domain.ProxyId;
import io.haproxyconfd.ports.KeyValueSource;
import io.haproxyconfd.ports.Mirror;
import io.haproxyconfd.ports.StoreException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class EtcdKeyValueSourceIT {
  @RegisterExtension static EtcdCluster etcd = EtcdCluster.of(1);

  private static final Duration DEADLINE = Duration.ofSeconds(10);
  private ProxyId proxy;
  private Client writer;
  private KeyValueSource source;

  @BeforeEach
  void setUp(org.junit.jupiter.api.TestInfo info) {
    proxy = new ProxyId("p-" + info.getTestMethod().orElseThrow().getName().hashCode() % 100000);
    writer = EtcdStore.client(EtcdSettings.of(etcd.endpoints()));
    source = EtcdStore.connect(EtcdSettings.of(etcd.endpoints()));
  }

  @AfterEach
  void tearDown() {
    source.close();
    writer.close();
  }

  private void put(String key, String value) throws Exception {
    writer
        .getKVClient()
        .put(EtcdStore.bytes("/" + proxy.folder() + "/" + key), EtcdStore.bytes(value))
        .get(5, TimeUnit.SECONDS);
  }

  private void deletePrefix(String key) throws Exception {
    writer
        .getKVClient()
        .delete(
            EtcdStore.bytes("/" + proxy.folder() + "/" + key),
            DeleteOption.builder().isPrefix(true).build())
        .get(5, TimeUnit.SECONDS);
  }

  @Test
  void a_missing_prefix_reads_as_an_empty_snapshot() throws Exception {
    KeySnapshot snapshot = source.read(proxy);
    assertTrue(snapshot.entries().isEmpty());
    assertTrue(snapshot.revision() > 0);
  }

  @Test
  void reads_keys_relative_to_the_prefix_and_only_this_proxys_keys() throws Exception {
    put("services/web/domain", "example.org");
    put("services/web/port", "80");
    writer
        .getKVClient()
        .put(EtcdStore.bytes("/haproxy-other/services/x/port"), EtcdStore.bytes("1"))
        .get(5, TimeUnit.SECONDS);
    KeySnapshot snapshot = source.read(proxy);
    assertEquals(
        List.of("services/web/domain", "services/web/port"),
        List.copyOf(snapshot.entries().keySet()));
    assertEquals("example.org", snapshot.entries().get("services/web/domain").value());
    assertTrue(snapshot.entries().get("services/web/domain").createRevision() > 0);
  }

  @Test
  void invalid_utf8_is_marked_not_mangled() throws Exception {
    writer
        .getKVClient()
        .put(
            EtcdStore.bytes("/" + proxy.folder() + "/services/web/domain"),
            io.etcd.jetcd.ByteSequence.from(new byte[] {'a', (byte) 0xff, 'b'}))
        .get(5, TimeUnit.SECONDS);
    assertEquals(
        KeySnapshot.INVALID_UTF8, source.read(proxy).entries().get("services/web/domain").value());
  }

  @Test
  void the_watch_signals_puts_and_deletes() throws Exception {
    try (Mirror mirror = new Mirror(source, proxy)) {
      put("services/web/domain", "example.org");
      Await.until(DEADLINE, "put seen", () -> mirror.values().containsKey("services/web/domain"));
      deletePrefix("services/web/");
      Await.until(DEADLINE, "delete seen", () -> mirror.values().isEmpty());
      assertTrue(mirror.signals.get() >= 2);
    }
  }

  @Test
  void a_thousand_rapid_puts_end_in_the_exact_final_state() throws Exception {
    try (Mirror mirror = new Mirror(source, proxy)) {
      Map<String, String> expected = new TreeMap<>();
      CompletableFuture<?>[] puts = new CompletableFuture<?>[1000];
      for (int i = 0; i < 1000; i++) {
        String key = "services/s" + (i % 50) + "/port";
        String value = Integer.toString(1000 + i);
        expected.put(key, value);
        puts[i] =
            writer
                .getKVClient()
                .put(EtcdStore.bytes("/" + proxy.folder() + "/" + key), EtcdStore.bytes(value));
        puts[i].get(5, TimeUnit.SECONDS);
      }
      Await.until(
          DEADLINE,
          () -> "final state; mirror has " + mirror.values().size(),
          () -> mirror.values().equals(expected));
      // Reads after the watch began come from the source's mirror of the prefix: after a
      // thousand events it must still hold exactly what etcd holds, revision included.
      // A source with no watch answers by a range read of the prefix: what etcd holds now.
      try (KeyValueSource direct = EtcdStore.connect(EtcdSettings.of(etcd.endpoints()))) {
        assertEquals(direct.read(proxy), source.read(proxy));
      }
    }
  }

  @Test
  void an_etcd_restart_mid_stream_loses_no_update() throws Exception {
    try (Mirror mirror = new Mirror(source, proxy)) {
      put("services/web/port", "1");
      Await.until(
          DEADLINE, "first put", () -> "1".equals(mirror.values().get("services/web/port")));
      etcd.kill(0);
      etcd.restart(0);
      Client fresh = EtcdStore.client(EtcdSettings.of(etcd.endpoints()));
      try {
        for (int i = 2; i <= 20; i++) {
          fresh
              .getKVClient()
              .put(
                  EtcdStore.bytes("/" + proxy.folder() + "/services/web/port"),
                  EtcdStore.bytes(Integer.toString(i)))
              .get(10, TimeUnit.SECONDS);
        }
      } finally {
        fresh.close();
      }
      Await.until(
          Duration.ofSeconds(20),
          () -> "last put after restart; mirror has " + mirror.values(),
          () -> "20".equals(mirror.values().get("services/web/port")));
    }
  }

  @Test
  void a_watch_from_a_compacted_revision_is_re_created_and_signals() throws Exception {
    put("services/web/port", "1");
    long old = source.read(proxy).revision();
    put("services/web/port", "2");
    put("services/web/port", "3");
    long now = source.read(proxy).revision();
    writer.getKVClient().compact(now).get(5, TimeUnit.SECONDS);

    // A daemon that was away while etcd compacted comes back with an old revision.
    var signals = new java.util.concurrent.LinkedBlockingQueue<String>();
    try (var subscription = source.watch(proxy, old, signals::add)) {
      String first = signals.poll(10, TimeUnit.SECONDS);
      assertTrue(first != null && first.contains("compacted"), "signal: " + first);
      String again = signals.poll(10, TimeUnit.SECONDS);
      assertTrue(again != null && again.contains("watching again"), "signal: " + again);
      put("services/web/port", "4");
      String next = signals.poll(10, TimeUnit.SECONDS);
      assertTrue(next != null && next.contains("key event"), "signal after re-watch: " + next);
    }
  }

  @Test
  void a_closed_subscription_stops_signalling() throws Exception {
    var signals = new java.util.concurrent.LinkedBlockingQueue<String>();
    var subscription = source.watch(proxy, source.read(proxy).revision(), signals::add);
    put("services/a/port", "1");
    assertTrue(signals.poll(10, TimeUnit.SECONDS) != null);
    subscription.close();
    subscription.close();
    put("services/a/port", "2");
    // a marker watch proves the second put was delivered to watchers
    var marker = new java.util.concurrent.LinkedBlockingQueue<String>();
    try (var m = source.watch(proxy, source.read(proxy).revision() - 1, marker::add)) {
      assertTrue(marker.poll(10, TimeUnit.SECONDS) != null);
    }
    assertTrue(signals.isEmpty(), "closed watch still signalled: " + signals);
  }

  @Test
  void an_unreachable_etcd_is_an_error_within_the_timeout_not_a_hang() throws Exception {
    int port = EtcdCluster.freePort();
    try (KeyValueSource nowhere =
        EtcdStore.connect(
            EtcdSettings.of("127.0.0.1:" + port).withTimeout(Duration.ofMillis(800)))) {
      long start = System.nanoTime();
      StoreException e = assertThrows(StoreException.class, () -> nowhere.read(proxy));
      long tookMs = (System.nanoTime() - start) / 1_000_000;
      assertFalse(e.isPermanent());
      assertTrue(tookMs < 5000, "took " + tookMs + " ms");
    }
  }

  @Test
  void endpoints_accept_the_seed_images_bare_host_port() {
    assertEquals(
        List.of(java.net.URI.create("http://10.0.0.1:2379"), java.net.URI.create("https://b:2379")),
        EtcdSettings.parseEndpoints("10.0.0.1:2379, https://b:2379"));
    assertEquals(
        List.of(java.net.URI.create("http://etcd.kontena.local:2379")),
        EtcdSettings.parseEndpoints("etcd.kontena.local"),
        "a bare host, as Kontena set ETCD_NODE: etcd's client port");
    assertThrows(IllegalArgumentException.class, () -> EtcdSettings.parseEndpoints("ftp://x:1"));
    assertThrows(IllegalArgumentException.class, () -> EtcdSettings.parseEndpoints(" , "));
  }
}
