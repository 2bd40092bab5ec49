package io.haproxyconfd.ports;

import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Finds the servers of services: by DNS, from agent-written keys, or from Consul's catalog.
 *
 * <p>Threading: {@link #resolve} is called by one thread at a time (the reconcile loop) and may
 * block for at most the adapter's own timeout. Listeners run on the adapter's threads.
 */
public interface BackendResolver extends AutoCloseable {
  /**
   * Resolves every query. The set is the full interest: services no longer asked for are forgotten,
   * and only those asked for are watched for changes.
   *
   * @return one resolution per query; a failure is a resolution with a warning, never an exception
   */
  Map<BackendQuery, Resolution> resolve(Set<BackendQuery> queries);

  /**
   * Resolves {@code asked} only: the queries that are new or changed since the last call. {@code
   * interest} is the full interest as in {@link #resolve(Set)}, a view the caller keeps changing
   * (read it during the call only); the caller keeps the earlier answers for the rest. An adapter
   * that keeps no state per service answers {@code asked} alone; the default resolves the whole
   * interest and answers from that.
   *
   * @return one resolution per query of {@code asked}
   */
  default Map<BackendQuery, Resolution> resolve(
      Set<BackendQuery> interest, Set<BackendQuery> asked) {
    Map<BackendQuery, Resolution> all = resolve(interest);
    Map<BackendQuery, Resolution> answers = new java.util.HashMap<>();
    asked.forEach(q -> answers.put(q, all.get(q)));
    return answers;
  }

  /**
   * Asks to be told when a resolution may have changed (a TTL ran out and the answer differed, the
   * catalog changed). Signals come only for services in the last {@link #resolve} call.
   */
  Subscription onChange(ChangeListener listener);

  /**
   * The queries whose answers changed since this was last called, when the resolver keeps track:
   * after a signal, its receiver asks about these alone instead of everything, so that one moved
   * name among 10,000 costs one service's work. Empty when the resolver cannot tell (the default);
   * then everything is to be asked again. A change is recorded before its signal is sent and handed
   * over once; a receiver that loses one is covered by its periodic full pass.
   *
   * <p>Threading: any thread; meant for a single receiver.
   */
  default Optional<Set<BackendQuery>> takeChanges() {
    return Optional.empty();
  }

  /**
   * What the resolver has done so far, for /metrics: counters and gauges by name ({@code
   * lookups_total}, {@code timeouts_total}, {@code in_flight}...). Empty for a resolver that counts
   * nothing.
   */
  default Map<String, Long> counters() {
    return Map.of();
  }

  /** Stops refreshing and closes connections. Idempotent. */
  @Override
  void close();
}
