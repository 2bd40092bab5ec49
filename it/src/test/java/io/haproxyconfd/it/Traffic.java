package io.haproxyconfd.it;

import io.haproxyconfd.adapters.haproxy.RawHttp;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * Requests through HAProxy, one after another on a thread of their own, while a fault happens:
 * every answer other than 200 and every connection error counts as failed, and the first few are
 * kept to be shown.
 */
public final class Traffic implements AutoCloseable {
  /** What was sent: answered 200, failed, and how the first failures went. */
  public record Counts(long ok, long failed, List<String> firstFailures) {
    /** Not one request failed, and enough were sent for that to mean something. */
    public void assertNoneFailed() {
      if (failed != 0 || ok <= 100) {
        throw new AssertionError(
            failed + " failed and " + ok + " answered; first failures: " + firstFailures);
      }
    }
  }

  private final int port;
  private final String host;
  private final Thread thread;
  private final AtomicLong ok = new AtomicLong();
  private final AtomicLong failed = new AtomicLong();
  private final AtomicLong lastFailureNanos = new AtomicLong();
  private final List<String> failures = new CopyOnWriteArrayList<>();
  private final long startedNanos = System.nanoTime();
  private volatile boolean stopped;

  /**
   * Traffic runs at least this long, however fast the product recovers, so that "none failed"
   * always rests on enough requests.
   */
  static final java.time.Duration MIN_RUN = java.time.Duration.ofSeconds(2);

  private Traffic(int port, String host) {
    this.port = port;
    this.host = host;
    this.thread = new Thread(this::loop, "traffic-" + host);
    this.thread.setDaemon(true);
  }

  /** Starts sending requests for {@code host} to HAProxy on {@code port}, one every ~1 ms. */
  public static Traffic start(int port, String host) {
    Traffic t = new Traffic(port, host);
    t.thread.start();
    return t;
  }

  /** Requests answered 200 so far. */
  public long ok() {
    return ok.get();
  }

  private void loop() {
    while (!stopped) {
      try {
        int status = RawHttp.get(port, host, "/").status();
        if (status == 200) {
          ok.incrementAndGet();
        } else {
          fail("status " + status);
        }
      } catch (Exception e) {
        fail(e.toString());
      }
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
    }
  }

  /** When the last request failed ({@link System#nanoTime()}), or 0 if none has. */
  public long lastFailureNanos() {
    return lastFailureNanos.get();
  }

  private void fail(String how) {
    lastFailureNanos.set(System.nanoTime());
    if (failed.incrementAndGet() <= 10) {
      failures.add(System.currentTimeMillis() + " " + how);
    }
  }

  /** Stops sending, once it has run for {@link #MIN_RUN} at least; what was counted. */
  public Counts stop() throws InterruptedException {
    long left = MIN_RUN.toNanos() - (System.nanoTime() - startedNanos);
    if (left > 0) {
      LockSupport.parkNanos(left); // a minimum duration of traffic, not a wait for anything
    }
    stopped = true;
    thread.join(10_000);
    return new Counts(ok.get(), failed.get(), List.copyOf(failures));
  }

  @Override
  public void close() throws InterruptedException {
    stop();
  }
}
