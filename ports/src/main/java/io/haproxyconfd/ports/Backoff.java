package io.haproxyconfd.ports;

import java.time.Duration;
import java.util.Objects;

/**
 * How long to wait before the next retry: {@code first}, then doubling, never above {@code max}.
 * Pure: each retry loop keeps the wait it is at, and a test can step it without a clock. Shared by
 * the adapters and the app, which may not share code any other way.
 */
public record Backoff(Duration first, Duration max) {
  public Backoff {
    Objects.requireNonNull(first, "first");
    Objects.requireNonNull(max, "max");
    if (first.isZero() || first.isNegative() || max.compareTo(first) < 0) {
      throw new IllegalArgumentException("a back-off starts above zero and at most at its cap");
    }
  }

  /** The wait after {@code current}: {@link #first} when there was none (zero), else doubled. */
  public Duration after(Duration current) {
    if (current.isZero() || current.isNegative()) {
      return first;
    }
    Duration doubled = current.multipliedBy(2);
    return doubled.compareTo(max) > 0 ? max : doubled;
  }

  /** The wait after {@code failures} failures in a row (1 or more): first, doubled each time. */
  public Duration afterFailures(int failures) {
    Duration wait = first;
    for (int i = 1; i < failures && wait.compareTo(max) < 0; i++) {
      wait = after(wait);
    }
    return wait;
  }
}
