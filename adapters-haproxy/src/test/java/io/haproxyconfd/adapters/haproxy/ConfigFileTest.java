package io.haproxyconfd.adapters.haproxy;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.haproxyconfd.domain.Await;
import io.haproxyconfd.domain.ProxyConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The deferred writer of haproxy.cfg: written once quiet, and written again after a failure. */
class ConfigFileTest {
  @TempDir Path dir;

  @Test
  void a_write_that_fails_is_tried_again_until_it_is_done() throws Exception {
    AtomicInteger tries = new AtomicInteger();
    java.util.concurrent.atomic.AtomicReference<String> atRetry =
        new java.util.concurrent.atomic.AtomicReference<>();
    Path file = dir.resolve("haproxy.cfg");
    try (ConfigFile config =
        new ConfigFile(
            file,
            (c, slots, gen, maps, out) -> {
              int n = tries.incrementAndGet();
              if (n == 1) {
                out.write("half of a config that"); // streamed: a part is out when it fails
                throw new IOException("disk full");
              }
              if (n == 2) {
                atRetry.set(Files.readString(file));
              }
              out.write("revision " + c.revision() + "\n");
            })) {
      Files.writeString(file, "revision 6\n");
      config.later(new ProxyConfig(7, List.of(), List.of()), Slots.empty(), dir, false);
      Await.until(
          Duration.ofSeconds(10),
          "haproxy.cfg written after the failure",
          () -> Files.readString(file).equals("revision 7\n"));
      assertEquals("revision 7\n", Files.readString(file));
      assertEquals(2, tries.get());
      assertEquals("revision 6\n", atRetry.get(), "the half-written render was never moved in");
    }
  }

  /**
   * A reload that commits while a deferred render is under way wins: the render began before it and
   * must not overwrite its file. And the render does not hold up the next change handed over.
   */
  @Test
  void a_reload_during_a_deferred_render_is_not_overwritten() throws Exception {
    Path file = dir.resolve("haproxy.cfg");
    HeldRenders renders = new HeldRenders();
    try (ConfigFile config = new ConfigFile(file, renders)) {
      try {
        config.later(new ProxyConfig(7, List.of(), List.of()), Slots.empty(), dir, false);
        renders.awaitBegun();
        // The apply path hands over the next change while the render runs: it must not wait.
        java.util.concurrent.CompletableFuture<Void> next =
            java.util.concurrent.CompletableFuture.runAsync(
                () ->
                    config.later(
                        new ProxyConfig(8, List.of(), List.of()), Slots.empty(), dir, false));
        next.get(5, java.util.concurrent.TimeUnit.SECONDS);
        config.commit("reloaded 9\n");
      } finally {
        renders.release(); // whatever failed, the writer is not left waiting
      }
      config.writeNow(); // waits for the deferred write to be over: it holds the render lock
      // What the reload wrote stays, though the render of revision 7 finished after it.
      assertEquals("reloaded 9\n", Files.readString(file));
    }
  }

  /** Map files are written when any change since the last write moved routes. */
  @Test
  void a_route_change_followed_by_a_backend_change_still_writes_the_maps() throws Exception {
    Path file = dir.resolve("haproxy.cfg");
    List<Boolean> maps = new java.util.concurrent.CopyOnWriteArrayList<>();
    try (ConfigFile config =
        new ConfigFile(
            file,
            (c, slots, gen, withMaps, out) -> {
              maps.add(withMaps);
              out.write("revision " + c.revision() + "\n");
            })) {
      config.later(new ProxyConfig(1, List.of(), List.of()), Slots.empty(), dir, true);
      config.later(new ProxyConfig(2, List.of(), List.of()), Slots.empty(), dir, false);
      Await.until(Duration.ofSeconds(10), "written", () -> Files.exists(file));
      assertEquals("revision 2\n", Files.readString(file));
      assertEquals(List.of(true), maps);
    }
  }

  /**
   * A config staged for a reload HAProxy may refuse: a deferred render begun before does not
   * overwrite it; refused, the file holds again what it held, and the runtime change not yet
   * written is still written after it.
   */
  @Test
  void a_config_staged_and_refused_leaves_the_file_as_it_was_and_the_pending_write_still_comes()
      throws Exception {
    Path file = dir.resolve("haproxy.cfg");
    HeldRenders renders = new HeldRenders();
    try (ConfigFile config = new ConfigFile(file, renders)) {
      Files.writeString(file, "reloaded 6\n");
      java.util.Optional<String> before;
      try {
        config.later(new ProxyConfig(7, List.of(), List.of()), Slots.empty(), dir, false);
        renders.awaitBegun();
        before = config.stage("unchecked 8\n");
        assertEquals(java.util.Optional.of("reloaded 6\n"), before);
      } finally {
        renders.release();
      }
      // The render of revision 7, begun before the stage, finishes (writeNow waits for it, and
      // itself writes nothing while the config is staged): it must not overwrite the staged one.
      config.writeNow();
      assertEquals("unchecked 8\n", Files.readString(file), "what HAProxy is reloaded on");

      config.restore(before);
      assertEquals("reloaded 6\n", Files.readString(file), "refused: as it was at once");
      // Revision 7 is what HAProxy serves: it still reaches the file.
      Await.until(
          Duration.ofSeconds(10),
          "the pending runtime change written after the refusal",
          () -> Files.readString(file).equals("runtime 7\n"));
    }
  }

  /**
   * A staged config HAProxy took supersedes the runtime change not yet written, and a deferred
   * render of that change, begun before the stage and over only after HAProxy took it, does not
   * land on it.
   */
  @Test
  void a_config_staged_and_taken_supersedes_the_pending_write() throws Exception {
    Path file = dir.resolve("haproxy.cfg");
    HeldRenders renders = new HeldRenders();
    try (ConfigFile config = new ConfigFile(file, renders)) {
      try {
        config.later(new ProxyConfig(7, List.of(), List.of()), Slots.empty(), dir, false);
        renders.awaitBegun();
        config.stage("unchecked 8\n");
        config.accepted();
      } finally {
        renders.release();
      }
      config.writeNow(); // waits for the render under way; then nothing is left to write
      assertEquals("unchecked 8\n", Files.readString(file));
      assertEquals(1, renders.count(), "a render after HAProxy took the staged config");
    }
  }

  /**
   * While HAProxy has not answered on a staged config, no deferred write replaces it: neither the
   * timer of a runtime change handed over before or after the stage, nor a write asked for now.
   */
  @Test
  void nothing_replaces_a_staged_config_until_haproxy_answers() throws Exception {
    Path file = dir.resolve("haproxy.cfg");
    try (ConfigFile config =
        new ConfigFile(file, (c, slots, gen, maps, out) -> out.write("runtime " + c.revision()))) {
      Files.writeString(file, "reloaded 6");
      config.later(new ProxyConfig(7, List.of(), List.of()), Slots.empty(), dir, false);
      java.util.Optional<String> before = config.stage("unchecked 8");
      config.later(new ProxyConfig(9, List.of(), List.of()), Slots.empty(), dir, false);
      config.writeNow();
      assertEquals("unchecked 8", Files.readString(file), "written over at once");
      // The window in which the timers of both runtime changes would write (a negative: waited
      // out, then any write under way waited for).
      Thread.sleep(ConfigFile.QUIET.toMillis() + 500);
      config.writeNow(); // waits for any deferred write under way
      assertEquals("unchecked 8", Files.readString(file), "written over by a timer");
      config.restore(before);
      Await.until(
          Duration.ofSeconds(10),
          "the runtime change written once HAProxy refused the staged config",
          () -> Files.readString(file).equals("runtime 9"));
    }
  }

  /** Renders "runtime N", each render held until {@link #release}: a deferred write under way. */
  private static final class HeldRenders implements ConfigFile.Rendering {
    private final java.util.concurrent.CountDownLatch begun =
        new java.util.concurrent.CountDownLatch(1);
    private final java.util.concurrent.CountDownLatch released =
        new java.util.concurrent.CountDownLatch(1);
    private final AtomicInteger count = new AtomicInteger();

    @Override
    public void render(ProxyConfig c, Slots slots, Path gen, boolean maps, java.io.Writer out)
        throws IOException {
      count.incrementAndGet();
      begun.countDown();
      try {
        released.await();
      } catch (InterruptedException e) {
        throw new IOException(e);
      }
      out.write("runtime " + c.revision() + "\n");
    }

    void awaitBegun() {
      Await.until(Duration.ofSeconds(10), "a deferred render began", () -> begun.getCount() == 0);
    }

    void release() {
      released.countDown();
    }

    int count() {
      return count.get();
    }
  }

  private static final long HOUR = Duration.ofHours(1).toNanos();

  /** A render that may hand a change over itself, as the apply path can while a write runs. */
  private interface Reentrant {
    void render(ConfigFile self, ProxyConfig c, boolean maps, java.io.Writer out)
        throws IOException;
  }

  /**
   * A writer on the test's clock, quiet after 1 h, due at the latest 10 h after a change: its own
   * timers are an hour away, so the writes are the test's calls to {@link ConfigFile#writeIfDue}.
   */
  private ConfigFile onClock(AtomicLong clock, Reentrant rendering) {
    AtomicReference<ConfigFile> self = new AtomicReference<>();
    ConfigFile config =
        new ConfigFile(
            dir.resolve("haproxy.cfg"),
            (c, slots, gen, maps, out) -> rendering.render(self.get(), c, maps, out),
            Duration.ofHours(1),
            Duration.ofHours(10),
            clock::get);
    self.set(config);
    return config;
  }

  private static ProxyConfig revision(long revision) {
    return new ProxyConfig(revision, List.of(), List.of());
  }

  /**
   * Changes that never stop, one every half of the quiet period: the file is written once per
   * maximum delay, not again after each write. A change handed over during a render is unwritten
   * from that render on; counted from the first change of all, every write after the first found
   * the delay long past and rendered again at once.
   */
  @Test
  void a_stream_of_changes_is_written_once_per_maximum_delay() throws Exception {
    AtomicLong clock = new AtomicLong();
    AtomicInteger renders = new AtomicInteger();
    try (ConfigFile config =
        onClock(
            clock,
            (self, c, maps, out) -> {
              renders.incrementAndGet();
              // The next change is handed over while this render runs.
              self.later(revision(c.revision() + 1000), Slots.empty(), dir, false);
              out.write("revision " + c.revision() + "\n");
            })) {
      List<Integer> rendersAt = new java.util.ArrayList<>();
      for (int half = 0; half <= 60; half++) { // 30 hours of changes, one every half hour
        clock.set(half * HOUR / 2);
        config.later(revision(half + 1), Slots.empty(), dir, false);
        config.writeIfDue();
        rendersAt.add(renders.get());
      }
      // Due at 10 h from the first change, at 20 h from the render at 10 h, at 30 h from 20 h.
      assertEquals(0, rendersAt.get(19), "before 10 h: " + rendersAt);
      assertEquals(1, rendersAt.get(20), "at 10 h: " + rendersAt);
      assertEquals(1, rendersAt.get(39), "before 20 h: " + rendersAt);
      assertEquals(2, rendersAt.get(40), "at 20 h: " + rendersAt);
      assertEquals(3, rendersAt.get(60), "at 30 h: " + rendersAt);
      assertEquals("revision 61\n", Files.readString(dir.resolve("haproxy.cfg")));
    }
  }

  /**
   * A change of routes handed over during the write of a state without one still has its map files
   * written: the state left unwritten after a write keeps what it must write.
   */
  @Test
  void routes_changed_during_a_write_have_their_maps_written_next() throws Exception {
    AtomicLong clock = new AtomicLong();
    List<Boolean> mapsAsked = new java.util.concurrent.CopyOnWriteArrayList<>();
    try (ConfigFile config =
        onClock(
            clock,
            (self, c, maps, out) -> {
              mapsAsked.add(maps);
              if (c.revision() == 1) { // routes change while the servers-only state is written
                self.later(revision(2), Slots.empty(), dir, true);
              }
              out.write("revision " + c.revision() + "\n");
            })) {
      config.later(revision(1), Slots.empty(), dir, false);
      clock.set(2 * HOUR); // quiet
      config.writeIfDue();
      clock.set(4 * HOUR); // quiet again since revision 2
      config.writeIfDue();
      assertEquals(List.of(false, true), mapsAsked);
      assertEquals("revision 2\n", Files.readString(dir.resolve("haproxy.cfg")));
    }
  }
}
