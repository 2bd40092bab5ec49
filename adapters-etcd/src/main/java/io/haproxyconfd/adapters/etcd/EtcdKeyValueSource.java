package io.haproxyconfd.adapters.etcd;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.Watch;
import io.etcd.jetcd.common.exception.CompactedException;
import io.etcd.jetcd.common.exception.ErrorCode;
import io.etcd.jetcd.common.exception.EtcdException;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.WatchOption;
import io.etcd.jetcd.watch.WatchEvent;
import io.etcd.jetcd.watch.WatchResponse;
import io.grpc.Status;
import io.haproxyconfd.domain.KeyChanges;
import io.haproxyconfd.domain.KeySnapshot;
import io.haproxyconfd.domain.ProxyId;
import io.haproxyconfd.ports.Backoff;
import io.haproxyconfd.ports.ChangeListener;
import io.haproxyconfd.ports.DaemonThreads;
import io.haproxyconfd.ports.KeyValueSource;
import io.haproxyconfd.ports.StoreException;
import io.haproxyconfd.ports.Subscription;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link KeyValueSource} on etcd v3. Watches start at the snapshot's revision + 1. A watch keeps a
 * mirror of its prefix: the snapshot it started from, with every event applied before the listener
 * hears of it, so that a read after a signal is answered from memory with that change in it, not by
 * another range read of the whole prefix. Without a live watch (before the first, after a failure)
 * a read is one prefix range read. jetcd resumes a watch by itself after a reconnect, but not after
 * a compaction or a cancel: then this class reads the prefix and watches again from its revision,
 * on its own thread, and signals a change so that the caller re-reads.
 */
final class EtcdKeyValueSource implements KeyValueSource {
  private static final Logger LOG = LoggerFactory.getLogger(EtcdKeyValueSource.class);

  /** Re-watch attempts are at most this far apart, so that etcd's return is seen within 1 s. */
  private static final Backoff BACKOFF = new Backoff(Duration.ofMillis(50), Duration.ofSeconds(1));

  /**
   * A new client is made at most this often, and only after a call found etcd unavailable. jetcd's
   * gRPC channel retries its connection on a timer that grows to two minutes during an outage and
   * that its API cannot reset (jetcd issue 1616): after a 30 s outage it stayed disconnected for
   * many seconds after etcd was back. A new channel connects at once.
   */
  private static final Duration NEW_CLIENT_EVERY = Duration.ofSeconds(1);

  private final Supplier<Client> connect;
  private volatile Client client;
  private final Object clientLock = new Object();

  /** When {@link #client} was made (nanoTime). Guarded by {@link #clientLock}. */
  private long clientMadeAt = System.nanoTime();

  private volatile boolean closed;
  private final Duration timeout;
  private final ScheduledExecutorService rewatcher =
      Executors.newSingleThreadScheduledExecutor(DaemonThreads.named("etcd-rewatch"));
  private final Set<EtcdSubscription> subscriptions = ConcurrentHashMap.newKeySet();

  /** The last snapshot read from etcd per prefix, to seed the mirror of a watch started at it. */
  private final Map<String, KeySnapshot> lastRead = new ConcurrentHashMap<>();

  EtcdKeyValueSource(Supplier<Client> connect, Duration timeout) {
    this.connect = connect;
    this.client = connect.get();
    this.timeout = timeout;
  }

  /**
   * After a call found etcd unavailable: a new client in place of the old one, at most once per
   * {@link #NEW_CLIENT_EVERY}. Closing the old one ends its watches; each subscription then watches
   * again on the new one.
   */
  private void newClientAfterFailure() {
    Client old;
    synchronized (clientLock) {
      if (closed || System.nanoTime() - clientMadeAt < NEW_CLIENT_EVERY.toNanos()) {
        return;
      }
      clientMadeAt = System.nanoTime();
      old = client;
      client = connect.get();
    }
    old.close();
    subscriptions.forEach(EtcdSubscription::moved);
  }

  static String prefix(ProxyId proxy) {
    return "/" + proxy.folder() + "/";
  }

  @Override
  public KeySnapshot read(ProxyId proxy) throws StoreException {
    String prefix = prefix(proxy);
    for (EtcdSubscription s : subscriptions) {
      if (s.prefix.equals(prefix)) {
        Optional<KeySnapshot> mirrored = s.mirrored();
        if (mirrored.isPresent()) {
          return mirrored.get();
        }
      }
    }
    KeySnapshot snapshot = readFromEtcd(prefix);
    lastRead.put(prefix, snapshot);
    return snapshot;
  }

  @Override
  public Optional<KeyChanges> changesSince(ProxyId proxy, long revision) {
    String prefix = prefix(proxy);
    for (EtcdSubscription s : subscriptions) {
      if (s.prefix.equals(prefix)) {
        Optional<KeyChanges> changes = s.changesSince(revision);
        if (changes.isPresent()) {
          return changes;
        }
      }
    }
    return Optional.empty();
  }

  /**
   * Changes a mirror remembers for a caller that has not asked yet; beyond this many, the caller
   * reads the whole prefix again instead.
   */
  static final int MAX_LOGGED_CHANGES = 100_000;

  /** Keys asked for per range read; fewer when a page would not fit in one gRPC message. */
  static final int PAGE_KEYS = 1000;

  /**
   * The whole prefix at one revision, in pages: a single read of a large prefix (a 1.4 MB value,
   * tens of thousands of keys) would exceed gRPC's message limit, and no page may hide keys.
   */
  private KeySnapshot readFromEtcd(String prefix) throws StoreException {
    TreeMap<String, KeySnapshot.Entry> entries = new TreeMap<>();
    ByteSequence end = ByteSequence.from(prefixEnd(prefix.getBytes(StandardCharsets.UTF_8)));
    ByteSequence from = EtcdStore.bytes(prefix);
    long revision = 0;
    int limit = PAGE_KEYS;
    while (true) {
      GetOption.Builder option = GetOption.builder().withRange(end).withLimit(limit);
      if (revision > 0) {
        option.withRevision(revision); // every page of the same snapshot
      }
      GetResponse page;
      try {
        page = page(prefix, from, option.build());
      } catch (StoreException e) {
        if (limit > 1 && String.valueOf(e.getMessage()).contains("RESOURCE_EXHAUSTED")) {
          limit = Math.max(1, limit / 4);
          continue;
        }
        throw e;
      }
      if (revision == 0) {
        revision = page.getHeader().getRevision();
      }
      for (KeyValue kv : page.getKvs()) {
        entries.put(relative(kv, prefix), entry(kv));
      }
      if (!page.isMore() || page.getKvs().isEmpty()) {
        return new KeySnapshot(revision, entries);
      }
      byte[] last = page.getKvs().get(page.getKvs().size() - 1).getKey().getBytes();
      from = ByteSequence.from(java.util.Arrays.copyOf(last, last.length + 1)); // just after it
      limit = PAGE_KEYS;
    }
  }

  /** The first key after every key that starts with {@code prefix}, as etcd's clients do it. */
  static byte[] prefixEnd(byte[] prefix) {
    for (int i = prefix.length - 1; i >= 0; i--) {
      if (prefix[i] != (byte) 0xff) {
        byte[] end = java.util.Arrays.copyOf(prefix, i + 1);
        end[i]++;
        return end;
      }
    }
    return new byte[] {0}; // all 0xff: to the end of the key space
  }

  /** One range read. */
  private GetResponse page(String prefix, ByteSequence from, GetOption option)
      throws StoreException {
    try {
      return client.getKVClient().get(from, option).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw StoreException.unavailable("interrupted while reading " + prefix, e);
    } catch (TimeoutException e) {
      newClientAfterFailure();
      throw StoreException.unavailable(
          "etcd did not answer within " + timeout.toMillis() + " ms reading " + prefix, e);
    } catch (ExecutionException | RuntimeException e) {
      Throwable cause = e instanceof ExecutionException ? e.getCause() : e;
      StoreException failure = classify(cause, prefix);
      if (!failure.isPermanent() && !String.valueOf(cause).contains("RESOURCE_EXHAUSTED")) {
        newClientAfterFailure();
      }
      throw failure;
    }
  }

  private static String relative(KeyValue kv, String prefix) {
    return kv.getKey().toString(StandardCharsets.UTF_8).substring(prefix.length());
  }

  private static KeySnapshot.Entry entry(KeyValue kv) {
    return new KeySnapshot.Entry(
        KeySnapshot.decode(kv.getValue().getBytes()), kv.getCreateRevision());
  }

  /** Credentials and certificates refused are permanent; everything else may pass. */
  static StoreException classify(Throwable cause, String prefix) {
    String message = String.valueOf(cause.getMessage());
    for (Throwable t = cause;
        t.getCause() != null && message.equals("UNAVAILABLE");
        t = t.getCause()) {
      message = "UNAVAILABLE: " + t.getCause().getMessage();
    }
    String lower = message.toLowerCase(Locale.ROOT);
    for (Throwable t = cause; t != null; t = t.getCause()) {
      if (t instanceof SSLException) {
        return StoreException.refused("etcd TLS handshake failed: " + t.getMessage(), cause);
      }
    }
    Status.Code code = Status.fromThrowable(cause).getCode();
    if (code == Status.Code.UNAUTHENTICATED
        || code == Status.Code.PERMISSION_DENIED
        || lower.contains("authentication failed")
        || (cause instanceof EtcdException ee
            && (ee.getErrorCode() == ErrorCode.UNAUTHENTICATED
                || ee.getErrorCode() == ErrorCode.PERMISSION_DENIED))) {
      return StoreException.refused("etcd refused the credentials: " + message, cause);
    }
    return StoreException.unavailable("etcd unavailable reading " + prefix + ": " + message, cause);
  }

  @Override
  public Subscription watch(ProxyId proxy, long revision, ChangeListener listener) {
    String prefix = prefix(proxy);
    EtcdSubscription s = new EtcdSubscription(prefix, listener);
    subscriptions.add(s);
    KeySnapshot read = lastRead.remove(prefix);
    s.start(revision + 1, read != null && read.revision() == revision ? read : null);
    return s;
  }

  @Override
  public void close() {
    synchronized (clientLock) {
      closed = true;
    }
    subscriptions.forEach(EtcdSubscription::close);
    rewatcher.shutdownNow();
    client.close();
  }

  /**
   * One prefix watch that re-creates itself until closed. Each jetcd watcher gets a generation
   * number; callbacks from a watcher that was already replaced are ignored, and at most one
   * re-watch is pending at a time.
   */
  /** One key the mirror changed, at the revision of that change. */
  private record Change(long revision, String key) {}

  private final class EtcdSubscription implements Subscription {
    private final String prefix;
    private final ChangeListener listener;
    private final AtomicBoolean rewatchPending = new AtomicBoolean();
    private final AtomicInteger failures = new AtomicInteger();
    // Guarded by this subscription's lock: watcher, generation, mirror, mirrorRevision.
    private Watch.Watcher watcher;
    private long generation;
    private volatile boolean closed;

    /** The prefix as this watch has delivered it, or null while that is not known to be whole. */
    private TreeMap<String, KeySnapshot.Entry> mirror;

    private long mirrorRevision;

    /**
     * The keys the mirror changed, in order, with the revision of each change: complete from {@link
     * #loggedFrom} on. Guarded by this subscription's lock.
     */
    private final java.util.ArrayDeque<Change> log = new java.util.ArrayDeque<>();

    private long loggedFrom = -1;

    EtcdSubscription(String prefix, ChangeListener listener) {
      this.prefix = prefix;
      this.listener = listener;
    }

    /** Watches from {@code fromRevision}; {@code seed}, when given, is the prefix just before. */
    synchronized void start(long fromRevision, KeySnapshot seed) {
      if (closed) {
        return;
      }
      long gen = ++generation;
      mirror = seed == null ? null : new TreeMap<>(seed.entries());
      mirrorRevision = seed == null ? 0 : seed.revision();
      log.clear();
      loggedFrom = seed == null ? -1 : seed.revision();
      watcher =
          client
              .getWatchClient()
              .watch(
                  EtcdStore.bytes(prefix),
                  WatchOption.builder().isPrefix(true).withRevision(fromRevision).build(),
                  Watch.listener(
                      response -> onNext(gen, response),
                      error -> onEnd(gen, describe(error)),
                      () -> onEnd(gen, "watch ended")));
    }

    private synchronized boolean isCurrent(long gen) {
      return !closed && gen == generation;
    }

    /** The mirror as a snapshot, when it is whole. */
    synchronized Optional<KeySnapshot> mirrored() {
      return mirror == null || closed
          ? Optional.empty()
          : Optional.of(new KeySnapshot(mirrorRevision, mirror));
    }

    /** Applies the events to the mirror first, then tells the listener. */
    private void onNext(long gen, WatchResponse response) {
      if (response.getEvents().isEmpty()) {
        return;
      }
      synchronized (this) {
        if (!isCurrent(gen)) {
          return;
        }
        for (WatchEvent event : response.getEvents()) {
          if (mirror == null) {
            break;
          }
          KeyValue kv = event.getKeyValue();
          switch (event.getEventType()) {
            case PUT -> mirror.put(relative(kv, prefix), entry(kv));
            case DELETE -> mirror.remove(relative(kv, prefix));
            default -> mirror = null; // not a kind this knows: reads go to etcd again
          }
          mirrorRevision = Math.max(mirrorRevision, kv.getModRevision());
          log.add(new Change(kv.getModRevision(), relative(kv, prefix)));
        }
        if (log.size() > MAX_LOGGED_CHANGES) {
          log.clear();
          loggedFrom = mirrorRevision; // a caller further back reads the prefix
        }
      }
      failures.set(0);
      listener.changed("etcd: " + response.getEvents().size() + " key event(s) under " + prefix);
    }

    /**
     * The keys changed after {@code revision}, with their values now, when the mirror is whole and
     * has logged every change since. What the caller then holds is forgotten: it asks from there.
     */
    synchronized Optional<KeyChanges> changesSince(long revision) {
      if (mirror == null || closed || revision < loggedFrom || revision > mirrorRevision) {
        return Optional.empty();
      }
      while (!log.isEmpty() && log.peekFirst().revision() <= revision) {
        log.removeFirst();
      }
      loggedFrom = revision;
      TreeMap<String, Optional<KeySnapshot.Entry>> keys = new TreeMap<>();
      for (Change c : log) {
        keys.put(c.key(), Optional.ofNullable(mirror.get(c.key())));
      }
      return Optional.of(new KeyChanges(revision, mirrorRevision, keys));
    }

    private void onEnd(long gen, String why) {
      if (!isCurrent(gen) || !rewatchPending.compareAndSet(false, true)) {
        return;
      }
      LOG.warn("etcd {} on {}; reading again and watching from the current revision", why, prefix);
      synchronized (this) {
        generation++;
        mirror = null; // events may be missed from here on: reads go to etcd until re-watched
        watcher.close();
      }
      // The caller reads at once: if etcd is gone, that read fails and says so where the caller
      // reports its state; if etcd is still there, nothing missed while the watch was down is lost.
      listener.changed("etcd " + why);
      rewatchLater(why);
    }

    /** The client was replaced, which ends its watches without a word: watch on the new one. */
    void moved() {
      long gen;
      synchronized (this) {
        gen = generation;
      }
      onEnd(gen, "client was replaced after a failed call");
    }

    private String describe(Throwable error) {
      return error instanceof CompactedException
          ? "watch revision was compacted"
          : "watch failed: " + error.getMessage();
    }

    /** Off the gRPC thread: read the prefix, watch from its revision, tell the listener. */
    private void rewatchLater(String why) {
      long delay = BACKOFF.afterFailures(failures.incrementAndGet()).toMillis();
      rewatcher.schedule(
          () -> {
            if (closed) {
              return;
            }
            try {
              KeySnapshot current = readFromEtcd(prefix);
              rewatchPending.set(false);
              start(current.revision() + 1, current);
              listener.changed(
                  "etcd: " + why + "; watching again from revision " + current.revision());
            } catch (StoreException | RuntimeException e) {
              rewatchLater(why);
            }
          },
          delay,
          TimeUnit.MILLISECONDS);
    }

    @Override
    public void close() {
      synchronized (this) {
        if (closed) {
          return;
        }
        closed = true;
        if (watcher != null) {
          watcher.close();
        }
      }
      subscriptions.remove(this);
    }
  }
}
