package io.haproxyconfd.ports;

import io.haproxyconfd.domain.KeyChanges;
import io.haproxyconfd.domain.KeySnapshot;
import io.haproxyconfd.domain.ProxyId;
import java.util.Optional;

/**
 * Where the keys of a proxy live: etcd or Consul. Each adapter knows its own prefix convention for
 * a {@link ProxyId} ({@code /haproxy-<id>/} for etcd, {@code haproxy-<id>/} for Consul).
 *
 * <p>Threading: {@link #read} may be called from any thread, concurrently with an active watch.
 * Listeners run on the adapter's threads (see {@link ChangeListener}).
 */
public interface KeyValueSource extends AutoCloseable {
  /**
   * Reads every key of the proxy in one consistent snapshot. A missing prefix is an empty snapshot,
   * not an error.
   *
   * @return keys relative to the prefix, with the store revision they were read at
   * @throws StoreException when the store does not answer within the adapter's deadline, or refuses
   *     the credentials ({@link StoreException#isPermanent()})
   */
  KeySnapshot read(ProxyId proxy) throws StoreException;

  /**
   * The keys that changed after {@code revision}, when the adapter knows them without reading the
   * store: its watch mirrors the prefix from that revision on. Empty when it does not (no watch
   * yet, a watch that failed, a revision it did not see): then {@link #read} the keys.
   *
   * @param revision the revision of the keys the caller holds, read from this source
   */
  default Optional<KeyChanges> changesSince(ProxyId proxy, long revision) {
    return Optional.empty();
  }

  /**
   * Watches the proxy's keys for changes made after {@code revision}. Every change, and every event
   * after which a change may have been missed (reconnect, compaction), is signalled. The adapter
   * re-establishes a failed watch by itself for as long as the subscription is open.
   *
   * @param revision the revision of the snapshot the caller holds; changes after it are signalled
   * @return the running watch; close it to stop
   */
  Subscription watch(ProxyId proxy, long revision, ChangeListener listener);

  /** Closes connections and every open subscription. Idempotent. */
  @Override
  void close();
}
