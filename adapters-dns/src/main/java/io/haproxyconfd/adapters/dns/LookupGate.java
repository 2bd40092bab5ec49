package io.haproxyconfd.adapters.dns;

import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * Lets at most {@code limit} lookups run at once; the rest wait in two queues, first lookups before
 * refreshes, so that a new service is not queued behind thousands of names whose answers are merely
 * getting old. A burst of names becomes a steady stream the resolver and the kernel's UDP buffers
 * can take. Thread-safe.
 */
final class LookupGate {
  private final int limit;
  // Guarded by this object's lock.
  private final ArrayDeque<Supplier<CompletableFuture<?>>> first = new ArrayDeque<>();
  private final ArrayDeque<Supplier<CompletableFuture<?>>> refreshes = new ArrayDeque<>();
  private int running;

  LookupGate(int limit) {
    this.limit = limit;
  }

  /**
   * Runs {@code lookup} when a place is free; it holds the place until the future it returns
   * completes.
   *
   * @param urgent a first lookup, ahead of every refresh
   */
  void submit(boolean urgent, Supplier<CompletableFuture<?>> lookup) {
    synchronized (this) {
      (urgent ? first : refreshes).add(lookup);
    }
    drain();
  }

  synchronized int running() {
    return running;
  }

  synchronized int waiting() {
    return first.size() + refreshes.size();
  }

  /** Forgets what has not started; used at close. */
  synchronized void clear() {
    first.clear();
    refreshes.clear();
  }

  private void drain() {
    while (true) {
      Supplier<CompletableFuture<?>> next;
      synchronized (this) {
        if (running >= limit) {
          return;
        }
        next = first.isEmpty() ? refreshes.poll() : first.poll();
        if (next == null) {
          return;
        }
        running++;
      }
      CompletableFuture<?> done;
      try {
        done = next.get();
      } catch (RuntimeException e) {
        done = CompletableFuture.failedFuture(e);
      }
      if (done.isDone()) {
        // answered at once (a name that is not a DNS name): no recursion, take the next one
        release();
        continue;
      }
      done.whenComplete(
          (r, e) -> {
            release();
            drain();
          });
    }
  }

  private synchronized void release() {
    running--;
  }
}
