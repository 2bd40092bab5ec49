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

  /** Puts every pair, many in flight, and waits for all. */
  private void putAll(Map<String, String> pairs) throws Exception {
    List<CompletableFuture<?>> puts = new java.util.ArrayList<>();
    for (var kv : pairs.entrySet()) {
      puts.add(
          writer
              .getKVClient()
              .put(
                  EtcdStore.bytes("/" + proxy.folder() + "/" + kv.getKey()),
                  EtcdStore.bytes(kv.getValue())));
      if (puts.size() >= 128) {
        CompletableFuture.allOf(puts.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
        puts.clear();
      }
    }
    CompletableFuture.allOf(puts.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
  }

  @Test
  void a_prefix_larger_than_one_grpc_message_is_read_whole() throws Exception {
    // 25 values of 1.4 MB: 35 MB, more than the client's 32 MiB message limit, in far fewer keys
    // than a page: only a page that shrinks when it does not fit reads it.
    Map<String, String> expected = new TreeMap<>();
    for (int i = 0; i < 25; i++) {
      expected.put("services/big" + i + "/cert", Character.toString('a' + i).repeat(1_400_000));
    }
    putAll(expected);
    Map<String, String> read;
    // Each page that does not fit is asked again smaller: 35 MB several times over.
    try (KeyValueSource patient =
        EtcdStore.connect(EtcdSettings.of(etcd.endpoints()).withTimeout(Duration.ofSeconds(30)))) {
      read = patient.read(proxy).values();
    }
    assertEquals(expected.keySet(), read.keySet());
    assertTrue(expected.equals(read), "every 1.4 MB value read back whole");
  }

  @Test
  void prefixes_at_and_around_a_page_boundary_lose_no_key() throws Exception {
    for (int count :
        new int[] {
          EtcdKeyValueSource.PAGE_KEYS - 1,
          EtcdKeyValueSource.PAGE_KEYS,
          EtcdKeyValueSource.PAGE_KEYS + 1,
          2 * EtcdKeyValueSource.PAGE_KEYS + 1
        }) {
      deletePrefix("services/");
      Map<String, String> expected = new TreeMap<>();
      for (int i = 0; i < count; i++) {
        expected.put("services/s" + i + "/port", Integer.toString(i));
      }
      putAll(expected);
      Map<String, String> read = source.read(proxy).values();
      assertEquals(expected.size(), read.size(), "keys read of " + count);
      assertTrue(expected.equals(read), "the values of " + count + " keys");
    }
  }

  @Test
  void every_page_of_a_read_is_of_the_same_revision() throws Exception {
    Map<String, String> keys = new TreeMap<>();
    for (int i = 0; i < 3 * EtcdKeyValueSource.PAGE_KEYS; i++) {
      keys.put(String.format("services/s%05d/port", i), "80");
    }
    putAll(keys);
    // Keys written during the reads sort after every page, so a later page that was read at a
    // later revision would hold some of them.
    java.util.concurrent.atomic.AtomicBoolean writing =
        new java.util.concurrent.atomic.AtomicBoolean(true);
    CompletableFuture<Void> writes =
        CompletableFuture.runAsync(
            () -> {
              for (int i = 0; writing.get() && i < 20_000; i++) {
                try {
                  put("services/zz" + i + "/port", "1");
                } catch (Exception e) {
                  throw new IllegalStateException(e);
                }
              }
            });
    try {
      for (int r = 0; r < 20; r++) {
        KeySnapshot snapshot = source.read(proxy);
        for (var e : snapshot.entries().entrySet()) {
          assertTrue(
              e.getValue().createRevision() <= snapshot.revision(),
              e.getKey()
                  + " created at "
                  + e.getValue().createRevision()
                  + " in a snapshot of "
                  + snapshot.revision());
        }
      }
    } finally {
      writing.set(false);
      writes.get(60, TimeUnit.SECONDS);
    }
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
