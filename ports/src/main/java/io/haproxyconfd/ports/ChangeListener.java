package io.haproxyconfd.ports;

/**
 * Told that something may have changed. A signal carries no data on purpose: the receiver re-reads
 * the whole state (level-triggered), so a missed or merged signal loses nothing.
 *
 * <p>Threading: called on the adapter's own threads (gRPC, HTTP or timer threads). It must return
 * quickly and never block; hand real work to another thread.
 */
@FunctionalInterface
public interface ChangeListener {
  /**
   * Something changed, or may have (after a reconnect, a lost watch, a compaction).
   *
   * @param reason a few words for the log: "key changed", "watch restarted after compaction"
   */
  void changed(String reason);
}
