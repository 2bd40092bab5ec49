package io.haproxyconfd.ports;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class BackoffTest {
  private final Backoff backoff = new Backoff(Duration.ofMillis(100), Duration.ofSeconds(1));

  @Test
  void starts_at_the_first_wait_doubles_and_stops_at_the_cap() {
    assertEquals(Duration.ofMillis(100), backoff.after(Duration.ZERO));
    assertEquals(Duration.ofMillis(200), backoff.after(Duration.ofMillis(100)));
    assertEquals(Duration.ofMillis(800), backoff.after(Duration.ofMillis(400)));
    assertEquals(Duration.ofSeconds(1), backoff.after(Duration.ofMillis(800)));
    assertEquals(Duration.ofSeconds(1), backoff.after(Duration.ofSeconds(1)));
  }

  @Test
  void counts_failures_the_same_way() {
    assertEquals(Duration.ofMillis(100), backoff.afterFailures(1));
    assertEquals(Duration.ofMillis(400), backoff.afterFailures(3));
    assertEquals(Duration.ofSeconds(1), backoff.afterFailures(1_000_000));
  }

  @Test
  void a_wait_of_zero_or_above_its_cap_is_refused() {
    assertThrows(IllegalArgumentException.class, () -> new Backoff(Duration.ZERO, Duration.ZERO));
    assertThrows(
        IllegalArgumentException.class,
        () -> new Backoff(Duration.ofSeconds(2), Duration.ofSeconds(1)));
  }

  @Test
  void daemon_threads_are_named_and_do_not_hold_the_jvm() {
    Thread t = DaemonThreads.named("x-worker").newThread(() -> {});
    assertEquals("x-worker", t.getName());
    assertTrue(t.isDaemon());
  }
}
