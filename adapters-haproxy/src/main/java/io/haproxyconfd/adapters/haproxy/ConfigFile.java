package io.haproxyconfd.adapters.haproxy;

import io.haproxyconfd.domain.ProxyConfig;
import io.haproxyconfd.ports.DaemonThreads;
import io.haproxyconfd.ports.ProxyException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * haproxy.cfg in the state directory: what HAProxy is started and reloaded on, and so always the
 * last good config with the current addresses in it.
 *
 * <p>A reload writes it at once ({@link #commit}). A runtime change writes it, and the map files of
 * its generation, later, off the apply path ({@link #later}): once changes have been quiet for
 * {@link #QUIET}, or at the latest {@link #MAX_DELAY} after the first unwritten one. A burst of
 * backend changes is rendered once, and no render competes for the CPU with the requests a change
 * has just redirected. Before HAProxy is started again, {@link #writeNow} brings the file up to
 * date.
 */
final class ConfigFile implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ConfigFile.class);

  /**
   * Long enough that a deploy moving backends every few hundred milliseconds is written once: at
   * 10,000 services each write lays out a 2 MB file. HAProxy serves every change at once through
   * the runtime API; the file only has to be right before HAProxy is started again, and {@link
   * #writeNow} sees to that.
   */
  static final Duration QUIET = Duration.ofSeconds(1);

  static final Duration MAX_DELAY = Duration.ofSeconds(10);
  static final Duration RETRY = Duration.ofSeconds(1);

  /**
   * Renders the config of a state whose servers sit in {@code slots} into {@code out}, and when
   * {@code maps}, first writes the map files of generation {@code dir} that follow a runtime change
   * of routes. Streamed: at 10,000 services the file is megabytes, and a string of it would be
   * garbage large enough to cost the daemon full collections.
   */
  interface Rendering {
    void render(ProxyConfig config, Slots slots, Path dir, boolean maps, java.io.Writer out)
        throws IOException;
  }

  private final Path file;
  private final Rendering rendering;
  private final ScheduledExecutorService writer =
      Executors.newSingleThreadScheduledExecutor(DaemonThreads.named("haproxy-cfg-writer"));

  /** Guards the file, {@link #unwritten} and {@link #commits}. Held briefly, never to render. */
  private final Object lock = new Object();

  /**
   * Held while a deferred write renders and writes, so that two never overlap (the map files of a
   * generation among them). Taken before {@link #lock}, never after.
   */
  private final Object renderLock = new Object();

  /** How many configs a reload wrote: a render begun before one must not overwrite it. */
  private long commits;

  /** The newest runtime change not yet in the file, or null. Guarded by {@link #lock}. */
  private Unwritten unwritten;

  /** Whether a retry after a failed write is scheduled. Guarded by {@link #lock}. */
  private boolean retrying;

  /**
   * Whether the file holds a config {@link #stage staged} for a reload whose answer is not in yet:
   * no deferred write may replace it until {@link #accepted} or {@link #restore}. Guarded by {@link
   * #lock}.
   */
  private boolean staged;

  /** A state to write, and when the first and last unwritten changes were (nanoTime). */
  private record Unwritten(
      ProxyConfig config, Slots slots, Path dir, boolean maps, long first, long last) {
    /** The same state, unwritten only since {@code time} if that is later than its first. */
    Unwritten since(long time) {
      return new Unwritten(config, slots, dir, maps, time - first > 0 ? time : first, last);
    }
  }

  private final Duration quiet;
  private final Duration maxDelay;
  private final LongSupplier nanoTime;

  ConfigFile(Path file, Rendering rendering) {
    this(file, rendering, QUIET, MAX_DELAY, System::nanoTime);
  }

  /** With other timings and clock: for tests. */
  ConfigFile(
      Path file, Rendering rendering, Duration quiet, Duration maxDelay, LongSupplier nanoTime) {
    this.file = file;
    this.rendering = rendering;
    this.quiet = quiet;
    this.maxDelay = maxDelay;
    this.nanoTime = nanoTime;
  }

  Path path() {
    return file;
  }

  /** The text HAProxy runs now (or ran, when adopted), if the file exists. */
  Optional<String> read() throws IOException {
    synchronized (lock) {
      return Files.exists(file) ? Optional.of(Files.readString(file)) : Optional.empty();
    }
  }

  /** Writes a checked config now; a runtime change not yet written is superseded by it. */
  void commit(String text) throws ProxyException {
    synchronized (lock) {
      unwritten = null;
      commits++;
      try {
        Generation.writeAtomically(file, text);
      } catch (IOException e) {
        throw new ProxyException("cannot write " + file + ": " + e.getMessage(), e);
      }
    }
  }

  /**
   * Puts a config nothing has checked in place, for a reload HAProxy may refuse. A deferred write
   * begun before does not overwrite it, as after {@link #commit}; the runtime change not yet
   * written stays pending until {@link #accepted}. Returns what the file held, for {@link
   * #restore}.
   */
  Optional<String> stage(String text) throws ProxyException {
    synchronized (lock) {
      // A deferred render under way is of an older state: it must not land, even once HAProxy
      // took this config.
      commits++;
      staged = true;
      try {
        Optional<String> before =
            Files.exists(file) ? Optional.of(Files.readString(file)) : Optional.empty();
        Generation.writeAtomically(file, text);
        return before;
      } catch (IOException e) {
        throw new ProxyException("cannot write " + file + ": " + e.getMessage(), e);
      }
    }
  }

  /** HAProxy serves the staged config: a runtime change not yet written is superseded by it. */
  void accepted() {
    synchronized (lock) {
      staged = false;
      unwritten = null;
    }
  }

  /**
   * HAProxy refused the staged config: the file holds again what it held ({@code before}, from
   * {@link #stage}), and a runtime change not yet written is written as it would have been.
   */
  void restore(Optional<String> before) throws ProxyException {
    synchronized (lock) {
      staged = false;
      try {
        if (before.isPresent()) {
          Generation.writeAtomically(file, before.get());
        } else {
          Files.deleteIfExists(file);
        }
      } catch (IOException e) {
        throw new ProxyException("cannot write " + file + " back: " + e.getMessage(), e);
      }
      if (unwritten != null) {
        try {
          writer.schedule(this::writeIfDue, quiet.toMillis(), TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.RejectedExecutionException e) {
          // closed: nothing writes any more, and HAProxy is stopped or kept as it is
        }
      }
    }
  }

  /**
   * Schedules writing a state HAProxy already serves through the runtime API.
   *
   * @param routes whether its routes changed, so that the map files must be written too
   */
  void later(ProxyConfig config, Slots slots, Path dir, boolean routes) {
    long now = nanoTime.getAsLong();
    synchronized (lock) {
      long first = unwritten == null ? now : unwritten.first();
      boolean maps = routes || (unwritten != null && unwritten.maps());
      unwritten = new Unwritten(config, slots, dir, maps, first, now);
    }
    writer.schedule(this::writeIfDue, quiet.toMillis(), TimeUnit.MILLISECONDS);
  }

  /**
   * The timer's write. It renders outside {@link #lock}, which the apply path takes to hand over
   * the next change: at 10,000 services a render takes a hundred milliseconds or more, and a change
   * must not wait for the render of the one before. The file is written only if no reload committed
   * a newer one meanwhile.
   */
  void writeIfDue() {
    synchronized (renderLock) {
      Unwritten u;
      long commitsSeen;
      long taken;
      synchronized (lock) {
        taken = nanoTime.getAsLong();
        u = unwritten;
        // While a staged config waits for HAProxy's answer, accepted() supersedes the state and
        // restore() schedules its write again.
        if (u == null
            || staged
            || (taken - u.last() < quiet.toNanos() && taken - u.first() < maxDelay.toNanos())) {
          return;
        }
        commitsSeen = commits;
      }
      Path rendered = file.resolveSibling(file.getFileName() + ".deferred");
      try {
        renderInto(u, rendered);
      } catch (IOException | RuntimeException e) {
        synchronized (lock) {
          if (commits == commitsSeen && unwritten == u) {
            failed(e); // kept for the retry; a newer state or a reload's file needs none
          }
        }
        return;
      }
      synchronized (lock) {
        if (commits != commitsSeen || staged) {
          return; // a reload wrote a newer config, or waits for HAProxy's answer on one
        }
        try {
          Generation.move(rendered, file);
        } catch (IOException e) {
          if (unwritten == u) {
            failed(e);
          }
          return;
        }
        if (unwritten == u) {
          unwritten = null;
        } else if (unwritten != null) {
          // What came during the render is unwritten since the state was taken, not since u's
          // first change: kept from then, a stream of changes found the maximum delay long past
          // after every write and rendered back to back (at 10,000 services, a core's worth).
          unwritten = unwritten.since(taken);
        }
      }
    }
  }

  /** Renders a state into a file of its own, to be moved over haproxy.cfg. */
  private void renderInto(Unwritten u, Path into) throws IOException {
    try (java.io.Writer out =
        Files.newBufferedWriter(into, java.nio.charset.StandardCharsets.UTF_8)) {
      rendering.render(u.config(), u.slots(), u.dir(), u.maps(), out);
    }
  }

  /**
   * Writes the state not yet in the file, if there is one: now, whatever the timers say, after any
   * deferred write under way. Not while a staged config waits for HAProxy's answer.
   */
  void writeNow() {
    synchronized (renderLock) {
      synchronized (lock) {
        writeUnwritten();
      }
    }
  }

  private void writeUnwritten() {
    Unwritten u = unwritten;
    if (u == null || staged) {
      return;
    }
    try {
      Path rendered = file.resolveSibling(file.getFileName() + ".deferred");
      renderInto(u, rendered);
      Generation.move(rendered, file);
      unwritten = null;
    } catch (IOException | RuntimeException e) {
      failed(e);
    }
  }

  /**
   * A write of {@link #unwritten} failed: it is kept until written (a restart of HAProxy writes it
   * first, or fails as loudly), and tried again in one chain of retries. Called under {@link
   * #lock}.
   */
  private void failed(Exception e) {
    LOG.error(
        "could not write {} or its maps: {}; HAProxy serves the change, a restart would not;"
            + " trying again in {}",
        file,
        e.getMessage(),
        RETRY);
    if (!retrying) {
      retrying = true;
      try {
        writer.schedule(this::retry, RETRY.toMillis(), TimeUnit.MILLISECONDS);
      } catch (RejectedExecutionException closing) {
        LOG.error(
            "closing with {} unwritten: HAProxy serves the change, a restart would not", file);
      }
    }
  }

  private void retry() {
    synchronized (lock) {
      retrying = false;
    }
    writeNow();
  }

  /** Writes what is unwritten and stops the writer. */
  @Override
  public void close() {
    writeNow();
    writer.shutdownNow();
  }
}
