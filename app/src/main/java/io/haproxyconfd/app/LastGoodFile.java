package io.haproxyconfd.app;

import com.google.gson.Gson;
import com.google.gson.JsonParseException;
import com.google.gson.reflect.TypeToken;
import io.haproxyconfd.domain.KeySnapshot;
import io.haproxyconfd.domain.LastGood;
import io.haproxyconfd.ports.DaemonThreads;
import java.io.IOException;
import java.lang.reflect.Type;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The last good version of each service, kept in the state directory so that a restarted daemon
 * does not take down a serving service whose keys turned bad while it was away. Written off the
 * reconcile loop, atomically (never a partial file), the newest version only when writes pile up.
 *
 * <p>The file holds key values, certificates' private keys among them: it is readable by its owner
 * only, like the certificate files HAProxy reads.
 */
final class LastGoodFile implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(LastGoodFile.class);
  private static final Gson GSON = new Gson();
  private static final Type SHAPE =
      new TypeToken<TreeMap<String, TreeMap<String, KeySnapshot.Entry>>>() {}.getType();

  private final Path file;
  private final AtomicReference<LastGood> pending = new AtomicReference<>();
  private final ScheduledThreadPoolExecutor writer =
      new ScheduledThreadPoolExecutor(1, DaemonThreads.named("last-good-writer"));

  /**
   * A write waits this long for the changes after it: at 10,000 services the file is megabytes (a
   * write cost 20 ms of CPU per change when it followed every second), and a deploy that moves
   * backends every few hundred milliseconds should not rewrite it each time. What a crash loses is
   * at most these seconds of last good versions, which only matter for keys that turn bad.
   */
  static final Duration COALESCE = Duration.ofSeconds(5);

  LastGoodFile(Path stateDir) {
    this.file = stateDir.resolve("last-good.json");
  }

  /** What an earlier daemon kept; nothing if there is no file or it cannot be read. */
  LastGood load() {
    try {
      Map<String, Map<String, KeySnapshot.Entry>> services =
          GSON.fromJson(Files.readString(file, StandardCharsets.UTF_8), SHAPE);
      return services == null ? LastGood.NONE : LastGood.of(services);
    } catch (NoSuchFileException e) {
      return LastGood.NONE;
    } catch (IOException | JsonParseException | IllegalArgumentException e) {
      LOG.warn(
          "cannot read {} ({}); services whose keys are bad now are left out, not kept",
          file,
          e.getMessage());
      return LastGood.NONE;
    }
  }

  /** Writes {@code lastGood} within {@link #COALESCE}, on the writer's thread; never blocks. */
  void save(LastGood lastGood) {
    if (pending.getAndSet(lastGood) == null) {
      try {
        writer.schedule(this::writePending, COALESCE.toMillis(), TimeUnit.MILLISECONDS);
      } catch (java.util.concurrent.RejectedExecutionException closed) {
        writePending(); // closing: written at once
      }
    }
  }

  private void writePending() {
    Optional.ofNullable(pending.getAndSet(null)).ifPresent(this::write);
  }

  private void write(LastGood lastGood) {
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    try {
      Files.deleteIfExists(tmp);
      Files.createFile(
          tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
      // Streamed: at 10,000 services the file is megabytes, and a string of it would be garbage
      // large enough to cost the daemon full collections.
      try (java.io.Writer out = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
        GSON.toJson(lastGood.services(), SHAPE, out);
      } catch (com.google.gson.JsonIOException e) {
        throw e.getCause() instanceof IOException io ? io : new IOException(e.getMessage(), e);
      }
      try {
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
      }
    } catch (IOException e) {
      LOG.warn(
          "cannot write {} ({}); a restart would not know the last good versions",
          file,
          e.getMessage());
    }
  }

  /** Writes what is pending, then stops the writer. */
  @Override
  public void close() {
    // A write under way finishes; one still waiting is made here, at once.
    writer.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
    writer.shutdown();
    try {
      writer.awaitTermination(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    writePending();
  }
}
