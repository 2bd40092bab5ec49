package io.haproxyconfd.ports;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.haproxyconfd.domain.Await;
import io.haproxyconfd.domain.KeyChanges;
import io.haproxyconfd.domain.KeySnapshot;
import io.haproxyconfd.domain.ProxyId;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What every {@link KeyValueSource} promises, run against each of them (etcd v3 and v2, Consul, and
 * the in-memory store the unit tests use), so that a fake cannot drift from the real stores. A
 * subclass gives a source on its store and a way to write that store as a user would; every test
 * has a proxy of its own.
 */
public abstract class KeyValueSourceContract {
  protected static final Duration DEADLINE = Duration.ofSeconds(10);
  private static final AtomicLong PROXIES = new AtomicLong(System.nanoTime() % 1_000_000);

  /** A new source on the store under test. The contract closes it. */
  protected abstract KeyValueSource newSource() throws Exception;

  /** Writes {@code value} at {@code key}, relative to the proxy's folder. */
  protected abstract void put(ProxyId proxy, String key, String value) throws Exception;

  /** Deletes every key under {@code folder} (relative to the proxy's, ending in '/'). */
  protected abstract void deleteFolder(ProxyId proxy, String folder) throws Exception;

  protected ProxyId proxy;
  protected KeyValueSource source;

  /** A proxy whose folder no other test uses. */
  protected static ProxyId freshProxy() {
    return new ProxyId("contract" + PROXIES.incrementAndGet());
  }

  @BeforeEach
  void openSource() throws Exception {
    proxy = freshProxy();
    source = newSource();
  }

  @AfterEach
  void closeSource() {
    source.close();
  }

  @Test
  void a_missing_prefix_reads_as_an_empty_snapshot_with_a_revision() throws Exception {
    KeySnapshot snapshot = source.read(proxy);
    assertEquals(Map.of(), snapshot.values());
    assertTrue(snapshot.revision() > 0, "revision " + snapshot.revision());
  }

  @Test
  void reads_keys_relative_to_the_prefix_and_only_this_proxys_keys() throws Exception {
    put(proxy, "services/web/domain", "example.org");
    put(proxy, "services/web/port", "80");
    put(new ProxyId(proxy.value() + "x"), "services/longer/port", "1"); // a folder it prefixes
    put(freshProxy(), "services/other/port", "2");
    assertEquals(
        Map.of("services/web/domain", "example.org", "services/web/port", "80"),
        source.read(proxy).values());
  }

  @Test
  void the_revision_moves_on_with_a_change() throws Exception {
    put(proxy, "services/web/port", "80");
    long before = source.read(proxy).revision();
    put(proxy, "services/web/port", "81");
    KeySnapshot after = source.read(proxy);
    assertTrue(after.revision() > before, before + " then " + after.revision());
    assertEquals("81", after.entries().get("services/web/port").value());
  }

  @Test
  void puts_and_deletes_after_the_read_are_signalled() throws Exception {
    try (Mirror mirror = new Mirror(source, proxy)) {
      put(proxy, "services/web/domain", "example.org");
      Await.until(
          DEADLINE,
          "put seen",
          () -> "example.org".equals(mirror.values().get("services/web/domain")));
      deleteFolder(proxy, "services/web/");
      Await.until(DEADLINE, "delete seen", () -> mirror.values().isEmpty());
      assertTrue(mirror.signals.get() >= 2, mirror.signals.get() + " signals");
    }
  }

  @Test
  void changes_of_a_proxy_whose_folder_extends_this_ones_are_not_signalled_here() throws Exception {
    ProxyId longer = new ProxyId(proxy.value() + "x");
    put(proxy, "services/web/port", "1");
    put(longer, "services/web/port", "1");
    LinkedBlockingQueue<String> mine = new LinkedBlockingQueue<>();
    LinkedBlockingQueue<String> theirs = new LinkedBlockingQueue<>();
    // The other proxy's watch on a source of its own, as another daemon would have it.
    try (KeyValueSource other = newSource();
        Subscription a = source.watch(proxy, source.read(proxy).revision(), mine::add);
        Subscription b = other.watch(longer, other.read(longer).revision(), theirs::add)) {
      put(longer, "services/web/port", "2");
      assertNotNull(theirs.poll(DEADLINE.toSeconds(), TimeUnit.SECONDS), "the longer folder's");
      assertNull(mine.poll(1, TimeUnit.SECONDS), "signalled for another proxy's key");
      put(proxy, "services/web/port", "2");
      assertNotNull(mine.poll(DEADLINE.toSeconds(), TimeUnit.SECONDS), "this proxy's own change");
    }
  }

  @Test
  void a_change_between_the_read_and_the_watch_is_signalled() throws Exception {
    long revision = source.read(proxy).revision();
    put(proxy, "services/web/port", "80");
    LinkedBlockingQueue<String> signals = new LinkedBlockingQueue<>();
    try (Subscription s = source.watch(proxy, revision, signals::add)) {
      assertNotNull(
          signals.poll(DEADLINE.toSeconds(), TimeUnit.SECONDS),
          "a change after the revision the caller holds");
    }
  }

  @Test
  void a_key_keeps_its_creation_revision_when_its_value_changes() throws Exception {
    // Which of two clashing services came first is told by creation revisions.
    put(proxy, "services/a/port", "1");
    put(proxy, "services/b/port", "1");
    long a = source.read(proxy).entries().get("services/a/port").createRevision();
    put(proxy, "services/a/port", "2");
    KeySnapshot after = source.read(proxy);
    assertEquals(a, after.entries().get("services/a/port").createRevision(), "a changed");
    assertTrue(
        a < after.entries().get("services/b/port").createRevision(), "a was created before b");
  }

  @Test
  void many_rapid_changes_end_in_the_exact_final_state() throws Exception {
    try (Mirror mirror = new Mirror(source, proxy)) {
      Map<String, String> expected = new TreeMap<>();
      for (int i = 0; i < 300; i++) {
        String key = "services/s" + (i % 30) + "/port";
        expected.put(key, Integer.toString(1000 + i));
        put(proxy, key, Integer.toString(1000 + i));
      }
      Await.until(
          Duration.ofSeconds(20),
          () -> "final state; mirror has " + mirror.values(),
          () -> mirror.values().equals(expected));
      assertEquals(expected, source.read(proxy).values(), "a read after the watch");
    }
  }

  @Test
  void a_closed_subscription_stops_signalling_and_closing_twice_is_harmless() throws Exception {
    LinkedBlockingQueue<String> closed = new LinkedBlockingQueue<>();
    Subscription subscription = source.watch(proxy, source.read(proxy).revision(), closed::add);
    put(proxy, "services/a/port", "1");
    assertTrue(closed.poll(DEADLINE.toSeconds(), TimeUnit.SECONDS) != null, "signalled while open");
    subscription.close();
    subscription.close();
    closed.clear();
    LinkedBlockingQueue<String> open = new LinkedBlockingQueue<>();
    try (Subscription marker = source.watch(proxy, source.read(proxy).revision(), open::add)) {
      put(proxy, "services/a/port", "2");
      assertTrue(open.poll(DEADLINE.toSeconds(), TimeUnit.SECONDS) != null, "the open watch");
    }
    // The closed watch ran on a stream of its own: give a late signal a moment to show.
    assertNull(closed.poll(1, TimeUnit.SECONDS), "a closed watch still signalled");
  }

  /**
   * Whether the source must know the changes since a read while it watches ({@link
   * KeyValueSource#changesSince}); a source that does not answers empty, and that is all.
   */
  protected boolean knowsChanges() {
    return false;
  }

  @Test
  void changes_since_a_read_bring_what_it_read_to_what_a_read_gives_now() throws Exception {
    put(proxy, "services/web/domain", "example.org");
    put(proxy, "services/web/port", "80");
    put(proxy, "services/old/port", "1");
    KeySnapshot first = source.read(proxy);
    LinkedBlockingQueue<String> signals = new LinkedBlockingQueue<>();
    try (Subscription watch = source.watch(proxy, first.revision(), signals::add)) {
      put(proxy, "services/web/port", "81");
      put(proxy, "services/api/domain", "api.example.org");
      deleteFolder(proxy, "services/old/");
      put(proxy, "services/web/port", "82");
      Map<String, String> expected =
          Map.of(
              "services/web/domain", "example.org",
              "services/web/port", "82",
              "services/api/domain", "api.example.org");
      Await.until(
          DEADLINE,
          () -> "the watch saw every change",
          () -> {
            Optional<KeyChanges> c = source.changesSince(proxy, first.revision());
            return knowsChanges()
                ? c.isPresent() && applied(first, c.get()).values().equals(expected)
                : source.read(proxy).values().equals(expected);
          });
      KeySnapshot now = source.read(proxy);
      Optional<KeyChanges> changes = source.changesSince(proxy, first.revision());
      assertEquals(knowsChanges(), changes.isPresent(), "changes known: " + changes);
      if (changes.isPresent()) {
        assertEquals(first.revision(), changes.get().fromRevision());
        assertEquals(now, applied(first, changes.get()), "the changes, applied, give a read");
        // Asked from where it is now: nothing more to tell.
        KeyChanges none = source.changesSince(proxy, now.revision()).orElseThrow();
        assertEquals(Map.of(), none.keys());
        // Asked from further back than a caller has asked since: never a wrong answer.
        Optional<KeyChanges> back = source.changesSince(proxy, first.revision());
        back.ifPresent(b -> assertEquals(now, applied(first, b)));
      }
    }
  }

  private static KeySnapshot applied(KeySnapshot snapshot, KeyChanges changes) {
    TreeMap<String, KeySnapshot.Entry> entries = new TreeMap<>(snapshot.entries());
    changes
        .keys()
        .forEach(
            (k, e) -> {
              if (e.isPresent()) {
                entries.put(k, e.get());
              } else {
                entries.remove(k);
              }
            });
    return new KeySnapshot(changes.revision(), entries);
  }

  @Test
  void closing_the_source_twice_is_harmless() {
    source.close();
    source.close();
  }
}
