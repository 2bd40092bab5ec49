package io.haproxyconfd.adapters.haproxy;

import io.haproxyconfd.ports.DaemonThreads;
import io.haproxyconfd.ports.ProxyException;
import java.nio.file.Files;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * HAProxy's life: adopted or started, started again on the last good config if its master dies,
 * reloaded onto a new config, stopped. Starts, restarts, stops and each change made through {@link
 * #exclusive} hold this object's lock, so that a restart never comes between a change HAProxy has
 * taken and the config file that records it, and nothing starts HAProxy once it is stopped.
 */
final class Supervisor implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Supervisor.class);

  /** Writes a config HAProxy can start on, for the first start with no last good one. */
  interface FirstConfig {
    void write() throws ProxyException;
  }

  /** A change to HAProxy and to the config file that records it. */
  interface Change<T> {
    T make() throws ProxyException;
  }

  private final HaproxyProcess process;
  private final ConfigFile file;
  private final ScheduledExecutorService checks =
      Executors.newSingleThreadScheduledExecutor(DaemonThreads.named("haproxy-supervisor"));

  /** Set when supervision ends: no restart of HAProxy after it. */
  private volatile boolean closed;

  Supervisor(HaproxyProcess process, ConfigFile file) {
    this.process = process;
    this.file = file;
  }

  /**
   * Adopts a running master of this state directory, or starts HAProxy on the last good config, or
   * on {@code first} when there is none that HAProxy accepts; then checks every 100 ms that the
   * master lives.
   */
  synchronized void start(FirstConfig first) throws ProxyException {
    Optional<Long> running = process.runningMaster();
    if (running.isPresent()) {
      LOG.info(
          "adopted the running HAProxy master (pid {}) serving {}", running.get(), file.path());
    } else if (Files.exists(file.path()) && process.check(file.path()).valid()) {
      LOG.info("starting HAProxy on the last good config {}", file.path());
      process.start(file.path());
    } else {
      LOG.info("starting HAProxy with no service yet");
      first.write();
      process.start(file.path());
    }
    checks.scheduleWithFixedDelay(this::supervise, 100, 100, TimeUnit.MILLISECONDS);
  }

  /** Restarts HAProxy on the last good config if its master died. */
  private synchronized void supervise() {
    // A check that waited for the lock while HAProxy was being stopped must not start it again.
    if (closed || process.masterAlive()) {
      return;
    }
    LOG.error("HAProxy's master is gone; starting it again on {}", file.path());
    file.writeNow();
    try {
      process.start(file.path());
    } catch (ProxyException e) {
      LOG.error("HAProxy did not start again: {}", e.getMessage());
    }
  }

  /** Makes {@code change} with restarts held off until it is done. */
  synchronized <T> T exclusive(Change<T> change) throws ProxyException {
    return change.make();
  }

  /**
   * Makes HAProxy serve the config file as it is now: a reload, or a start if it is not running.
   */
  synchronized void serveFile() throws ProxyException {
    if (closed) {
      throw new ProxyException("HAProxy is being stopped; the new config is not served", null);
    }
    if (process.masterAlive()) {
      process.reload();
    } else {
      process.start(file.path());
    }
  }

  /**
   * Reloads a running HAProxy on the config file as it is now, a config nothing has checked: true
   * if HAProxy serves it, false if HAProxy refused it (and serves what it served before) or is not
   * running (a start needs a checked config).
   */
  synchronized boolean reloadIfAccepted() throws ProxyException {
    if (closed) {
      throw new ProxyException("HAProxy is being stopped; the new config is not served", null);
    }
    return process.masterAlive() && process.tryReload();
  }

  /** Stops supervising; HAProxy keeps serving, for a restarted daemon to adopt. */
  @Override
  public void close() {
    closed = true;
    checks.shutdownNow();
  }

  /** Stops supervising, then HAProxy (its master, by the PID in the state directory). */
  synchronized void stop() {
    close();
    process.stop();
  }
}
