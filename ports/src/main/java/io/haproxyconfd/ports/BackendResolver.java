package io.haproxyconfd.ports;

import java.util.Map;
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
   * Asks to be told when a resolution may have changed (a TTL ran out and the answer differed, the
   * catalog changed). Signals come only for services in the last {@link #resolve} call.
   */
  Subscription onChange(ChangeListener listener);

  /** Stops refreshing and closes connections. Idempotent. */
  @Override
  void close();
}
