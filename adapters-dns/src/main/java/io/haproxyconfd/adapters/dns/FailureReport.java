package io.haproxyconfd.adapters.dns;

import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * The log of failing lookups: a line when lookups start failing, one summary line per interval
 * while they fail (how many names, since when, the addresses kept), and a line when every name
 * answers again. Never a line per lookup: 10,000 names in a DNS outage would be 10,000 lines at
 * every retry. Thread-safe.
 */
final class FailureReport {
  /** A name whose lookups fail: since when, the first error, how many addresses it keeps. */
  private record Failure(String name, Instant since, String error, int kept) {}

  private static final int EXAMPLES = 3;

  private final Consumer<String> warn;
  private final Consumer<String> info;
  private final java.util.function.IntSupplier queued;
  private final Map<Object, Failure> failing = new ConcurrentHashMap<>();
  // Guarded by this object's lock.
  private Instant outageSince;
  private int mostFailing;

  /**
   * @param queued how many lookups wait for their turn: in an outage most names are not failing yet
   *     but queued behind the few in flight, and the summary says so
   */
  FailureReport(
      Consumer<String> warn, Consumer<String> info, java.util.function.IntSupplier queued) {
    this.warn = warn;
    this.info = info;
    this.queued = queued;
  }

  /** A lookup of {@code name} (under {@code key}) failed; it keeps {@code kept} addresses. */
  void failed(Object key, String name, Instant since, String error, int kept) {
    boolean first;
    synchronized (this) { // with tick's copy and reset: an all-clear never hides a new failure
      failing.put(key, new Failure(name, since, error, kept));
      first = outageSince == null;
      if (first) {
        outageSince = since;
      }
      mostFailing = Math.max(mostFailing, failing.size());
    }
    if (first) {
      warn.accept(
          "DNS lookups are failing, first of "
              + name
              + " ("
              + error
              + "); the addresses known so far are kept, and a summary follows while it lasts");
    }
  }

  /** {@code key} had an answer, or is no longer asked for. */
  void settled(Object key) {
    failing.remove(key);
  }

  /** How many names fail now. */
  int failing() {
    return failing.size();
  }

  /** Called every interval: the summary while names fail, the all-clear once they no longer do. */
  void tick(Instant now) {
    List<Failure> current;
    Instant since;
    int most;
    synchronized (this) {
      current = List.copyOf(failing.values());
      since = outageSince;
      most = mostFailing;
      if (current.isEmpty()) {
        outageSince = null;
        mostFailing = 0;
      }
    }
    if (since == null) {
      return;
    }
    if (current.isEmpty()) {
      info.accept(
          "DNS answers again: every name resolves; lookups failed for "
              + Duration.between(since, now).toSeconds()
              + " s, for up to "
              + most
              + " name(s)");
      return;
    }
    Failure oldest = current.stream().min(Comparator.comparing(Failure::since)).orElseThrow();
    long kept = current.stream().mapToLong(Failure::kept).sum();
    List<String> examples =
        current.stream().map(Failure::name).distinct().sorted().limit(EXAMPLES).toList();
    int waiting = queued.getAsInt();
    warn.accept(
        "DNS lookups of "
            + current.size()
            + " name(s) failing, the oldest since "
            + oldest.since().truncatedTo(ChronoUnit.SECONDS)
            + " ("
            + oldest.error()
            + "); keeping their "
            + kept
            + " last known address(es); "
            + (current.size() > EXAMPLES ? "among them " : "")
            + String.join(", ", examples)
            + (waiting > 0 ? "; " + waiting + " more lookup(s) queued behind them" : ""));
  }
}
