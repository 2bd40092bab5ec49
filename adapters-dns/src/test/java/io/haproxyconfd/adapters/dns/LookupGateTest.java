package io.haproxyconfd.adapters.dns;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

class LookupGateTest {
  /** Lookups that stay in flight until the test completes them, in the order they started. */
  private final List<String> started = new ArrayList<>();

  private final List<CompletableFuture<Void>> inFlight = new ArrayList<>();

  private void submit(LookupGate gate, boolean first, String name) {
    gate.submit(
        first,
        () -> {
          started.add(name);
          CompletableFuture<Void> f = new CompletableFuture<>();
          inFlight.add(f);
          return f;
        });
  }

  @Test
  void never_more_than_the_limit_run_at_once() {
    LookupGate gate = new LookupGate(3);
    for (int i = 0; i < 10; i++) {
      submit(gate, false, "r" + i);
    }
    assertEquals(List.of("r0", "r1", "r2"), started);
    assertEquals(3, gate.running());
    assertEquals(7, gate.waiting());

    inFlight.get(1).complete(null);
    assertEquals(List.of("r0", "r1", "r2", "r3"), started, "a freed place takes the next");
    assertEquals(3, gate.running());
    assertEquals(6, gate.waiting());

    inFlight.get(0).completeExceptionally(new RuntimeException("timed out"));
    assertEquals(5, started.size(), "a failed lookup frees its place too");
  }

  @Test
  void first_lookups_go_ahead_of_refreshes() {
    LookupGate gate = new LookupGate(1);
    submit(gate, false, "busy");
    submit(gate, false, "refresh-1");
    submit(gate, false, "refresh-2");
    submit(gate, true, "new-service");
    inFlight.get(0).complete(null);
    assertEquals(List.of("busy", "new-service"), started);
    inFlight.get(1).complete(null);
    assertEquals(List.of("busy", "new-service", "refresh-1"), started);
  }

  @Test
  void a_lookup_answered_at_once_does_not_hold_its_place() {
    LookupGate gate = new LookupGate(1);
    for (int i = 0; i < 5; i++) {
      int n = i;
      gate.submit(
          false,
          () -> {
            started.add("now-" + n);
            return CompletableFuture.completedFuture(null);
          });
    }
    assertEquals(5, started.size());
    assertEquals(0, gate.running());
  }
}
