package io.haproxyconfd.domain;

import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;

/** Waits for a condition with a deadline: the only way tests wait. */
public final class Await {
  private Await() {}

  /**
   * Polls every few milliseconds until the condition holds; fails with the message at the deadline.
   */
  public static void until(
      Duration deadline, Supplier<String> describe, CheckedCondition condition) {
    Instant end = Instant.now().plus(deadline);
    Throwable last = null;
    while (true) {
      try {
        if (condition.holds()) {
          return;
        }
      } catch (Exception | AssertionError e) {
        last = e;
      }
      if (Instant.now().isAfter(end)) {
        AssertionError error =
            new AssertionError("not within " + deadline.toMillis() + " ms: " + describe.get());
        if (last != null) {
          error.initCause(last);
        }
        throw error;
      }
      LockSupport.parkNanos(Duration.ofMillis(5).toNanos());
    }
  }

  public static void until(Duration deadline, String what, CheckedCondition condition) {
    until(deadline, () -> what, condition);
  }

  /** A condition that may throw while it is not yet true. */
  @FunctionalInterface
  public interface CheckedCondition {
    boolean holds() throws Exception;
  }
}
