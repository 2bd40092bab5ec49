package io.haproxyconfd.adapters.etcd;

import io.etcd.jetcd.Client;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.Watch;
import io.etcd.jetcd.common.exception.CompactedException;
import io.etcd.jetcd.common.exception.ErrorCode;
import io.etcd.jetcd.common.exception.EtcdException;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.WatchOption;
import io.etcd.jetcd.watch.WatchResponse;
import io.grpc.Status;
import io.haproxyconfd.domain.KeySnapshot;
import io.haproxyconfd.domain.ProxyId;
import io.haproxyconfd.ports.ChangeListener;
import io.haproxyconfd.ports.KeyValueSource;
import io.haproxyconfd.ports.StoreException;
import io.haproxyconfd.ports.Subscription;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Locale;
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
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link KeyValueSource} on etcd v3. Reads are one prefix range read; watches start at the
 * snapshot's revision + 1. jetcd resumes a watch by itself after a reconnect, but not after a
 * compaction or a cancel: then this class reads the current revision and watches again from there,
 * on its own thread, and signals a change so that the caller re-reads.
 */
final class EtcdKeyValueSource implements KeyValueSource {
  private static final Logger LOG = LoggerFactory.getLogger(EtcdKeyValueSource.class);
  private static final Duration MAX_BACKOFF = Duration.ofSeconds(5);

  private final Client client;
  private final Duration timeout;
  private final ScheduledExecutorService rewatcher =
      Executors.newSingleThreadScheduledExecutor(
          r -> {
            Thread t = new Thread(r, "etcd-rewatch");
            t.setDaemon(true);
            return t;
          });
  private final Set<EtcdSubscription> subscriptions = ConcurrentHashMap.newKeySet();

  EtcdKeyValueSource(Client client, Duration timeout) {
    this.client = client;
    this.timeout = timeout;
  }

  static String prefix(ProxyId proxy) {
    return "/" + proxy.folder() + "/";
  }

  @Override
  public KeySnapshot read(ProxyId proxy) throws StoreException {
    String prefix = prefix(proxy);
    GetResponse response;
    try {
      response =
          client
              .getKVClient()
              .get(EtcdStore.bytes(prefix), GetOption.builder().isPrefix(true).build())
              .get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw StoreException.unavailable("interrupted while reading " + prefix, e);
    } catch (TimeoutException e) {
      throw StoreException.unavailable(
          "etcd did not answer within " + timeout.toMillis() + " ms reading " + prefix, e);
    } catch (ExecutionException e) {
      throw classify(e.getCause(), prefix);
    } catch (RuntimeException e) {
      throw classify(e, prefix);
    }
    TreeMap<String, KeySnapshot.Entry> entries = new TreeMap<>();
    for (KeyValue kv : response.getKvs()) {
      String key = kv.getKey().toString(StandardCharsets.UTF_8);
      entries.put(
          key.substring(prefix.length()),
          new KeySnapshot.Entry(
              KeySnapshot.decode(kv.getValue().getBytes()), kv.getCreateRevision()));
    }
    return new KeySnapshot(response.getHeader().getRevision(), entries);
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
    EtcdSubscription s = new EtcdSubscription(prefix(proxy), listener);
    subscriptions.add(s);
    s.start(revision + 1);
    return s;
  }

  @Override
  public void close() {
    subscriptions.forEach(EtcdSubscription::close);
    rewatcher.shutdownNow();
    client.close();
  }

  /**
   * One prefix watch that re-creates itself until closed. Each jetcd watcher gets a generation
   * number; callbacks from a watcher that was already replaced are ignored, and at most one
   * re-watch is pending at a time.
   */
  private final class EtcdSubscription implements Subscription {
    private final String prefix;
    private final ChangeListener listener;
    private final AtomicBoolean rewatchPending = new AtomicBoolean();
    private final AtomicInteger failures = new AtomicInteger();
    private Watch.Watcher watcher;
    private long generation;
    private volatile boolean closed;

    EtcdSubscription(String prefix, ChangeListener listener) {
      this.prefix = prefix;
      this.listener = listener;
    }

    synchronized void start(long fromRevision) {
      if (closed) {
        return;
      }
      long gen = ++generation;
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

    private void onNext(long gen, WatchResponse response) {
      if (isCurrent(gen) && !response.getEvents().isEmpty()) {
        failures.set(0);
        listener.changed("etcd: " + response.getEvents().size() + " key event(s) under " + prefix);
      }
    }

    private void onEnd(long gen, String why) {
      if (!isCurrent(gen) || !rewatchPending.compareAndSet(false, true)) {
        return;
      }
      LOG.warn("etcd {} on {}; reading again and watching from the current revision", why, prefix);
      synchronized (this) {
        generation++;
        watcher.close();
      }
      rewatchLater(why);
    }

    private String describe(Throwable error) {
      return error instanceof CompactedException
          ? "watch revision was compacted"
          : "watch failed: " + error.getMessage();
    }

    /** Off the gRPC thread: find the current revision, watch from it, tell the listener. */
    private void rewatchLater(String why) {
      long delay = Math.min(MAX_BACKOFF.toMillis(), 50L << Math.min(failures.getAndIncrement(), 7));
      rewatcher.schedule(
          () -> {
            if (closed) {
              return;
            }
            try {
              long current =
                  client
                      .getKVClient()
                      .get(
                          EtcdStore.bytes(prefix),
                          GetOption.builder().isPrefix(true).withCountOnly(true).build())
                      .get(timeout.toMillis(), TimeUnit.MILLISECONDS)
                      .getHeader()
                      .getRevision();
              rewatchPending.set(false);
              start(current + 1);
              listener.changed("etcd: " + why + "; watching again from revision " + current);
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            } catch (ExecutionException | TimeoutException | RuntimeException e) {
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
