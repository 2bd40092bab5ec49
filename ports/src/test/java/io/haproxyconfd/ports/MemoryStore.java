package io.haproxyconfd.ports;

import io.haproxyconfd.domain.KeySnapshot;
import io.haproxyconfd.domain.ProxyId;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A store in memory for unit tests: the keys of many proxies, one revision for them all, watches
 * that signal on the writer's thread, and a switch that makes every read fail. It runs the same
 * {@link KeyValueSourceContract} as etcd and Consul do.
 */
public final class MemoryStore implements KeyValueSource {
  private record Watch(String folder, ChangeListener listener) {}

  private final TreeMap<String, KeySnapshot.Entry> keys = new TreeMap<>(); // guarded by this
  private long revision = 1; // guarded by this
  private final Map<String, Long> changedSince = new java.util.HashMap<>(); // guarded by this
  private final List<Watch> watches = new CopyOnWriteArrayList<>();

  /** While true, every read fails as an unreachable store would. */
  public final AtomicBoolean down = new AtomicBoolean();

  /** Reads answered so far. */
  public final AtomicInteger reads = new AtomicInteger();

  private static String folder(ProxyId proxy) {
    return proxy.folder() + "/";
  }

  public void put(ProxyId proxy, String key, String value) {
    synchronized (this) {
      revision++;
      KeySnapshot.Entry before = keys.get(folder(proxy) + key);
      keys.put(
          folder(proxy) + key,
          new KeySnapshot.Entry(value, before == null ? revision : before.createRevision()));
    }
    signal(proxy, "key put (memory)");
  }

  /** Deletes every key of {@code proxy} under {@code folder} (relative, ending in '/'). */
  public void deleteFolder(ProxyId proxy, String folder) {
    synchronized (this) {
      revision++;
      keys.keySet().removeIf(k -> k.startsWith(folder(proxy) + folder));
    }
    signal(proxy, "keys deleted (memory)");
  }

  /** Replaces every key of {@code proxy} with {@code values}, at one new revision. */
  public void set(ProxyId proxy, Map<String, String> values) {
    synchronized (this) {
      revision++;
      Map<String, KeySnapshot.Entry> before = new TreeMap<>(keys);
      keys.keySet().removeIf(k -> k.startsWith(folder(proxy)));
      values.forEach(
          (k, v) -> {
            KeySnapshot.Entry was = before.get(folder(proxy) + k);
            keys.put(
                folder(proxy) + k,
                new KeySnapshot.Entry(v, was == null ? revision : was.createRevision()));
          });
    }
    signal(proxy, "keys set (memory)");
  }

  /** The keys of {@code proxy} and their values now. */
  public synchronized Map<String, String> values(ProxyId proxy) {
    Map<String, String> out = new TreeMap<>();
    keys.subMap(folder(proxy), folder(proxy) + Character.MAX_VALUE)
        .forEach((k, e) -> out.put(k.substring(folder(proxy).length()), e.value()));
    return out;
  }

  private void signal(ProxyId proxy, String reason) {
    synchronized (this) {
      changedSince.put(folder(proxy), revision);
    }
    List<ChangeListener> told = new ArrayList<>();
    for (Watch w : watches) {
      if (w.folder().equals(folder(proxy))) {
        told.add(w.listener());
      }
    }
    told.forEach(l -> l.changed(reason));
  }

  @Override
  public KeySnapshot read(ProxyId proxy) throws StoreException {
    if (down.get()) {
      throw StoreException.unavailable("the memory store is down (test)", null);
    }
    reads.incrementAndGet();
    synchronized (this) {
      TreeMap<String, KeySnapshot.Entry> entries = new TreeMap<>();
      keys.subMap(folder(proxy), folder(proxy) + Character.MAX_VALUE)
          .forEach((k, e) -> entries.put(k.substring(folder(proxy).length()), e));
      return new KeySnapshot(revision, entries);
    }
  }

  @Override
  public Subscription watch(ProxyId proxy, long revision, ChangeListener listener) {
    Watch w = new Watch(folder(proxy), listener);
    watches.add(w);
    boolean missed;
    synchronized (this) {
      missed = changedSince.getOrDefault(folder(proxy), 0L) > revision;
    }
    if (missed) {
      listener.changed("changed since revision " + revision + " (memory)");
    }
    return () -> watches.remove(w);
  }

  @Override
  public void close() {
    watches.clear();
  }
}
