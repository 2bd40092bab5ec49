package io.haproxyconfd.ports;

import io.haproxyconfd.domain.KeySnapshot;
import io.haproxyconfd.domain.ProxyId;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * What a level-triggered consumer sees: it re-reads the whole prefix only when signalled. If a
 * signal were lost, its copy would stay stale and the test that waits for the final state fails.
 */
public final class Mirror implements ChangeListener, AutoCloseable {
  private final KeyValueSource source;
  private final ProxyId proxy;
  private final ExecutorService reader = Executors.newSingleThreadExecutor();
  private final AtomicBoolean pending = new AtomicBoolean();
  public final AtomicInteger signals = new AtomicInteger();
  public final AtomicInteger reads = new AtomicInteger();
  private volatile KeySnapshot latest;
  private final Subscription subscription;

  public Mirror(KeyValueSource source, ProxyId proxy) throws StoreException {
    this.source = source;
    this.proxy = proxy;
    this.latest = source.read(proxy);
    this.subscription = source.watch(proxy, latest.revision(), this);
  }

  @Override
  public void changed(String reason) {
    signals.incrementAndGet();
    if (pending.compareAndSet(false, true)) {
      reader.submit(this::reread);
    }
  }

  private void reread() {
    pending.set(false);
    try {
      latest = source.read(proxy);
      reads.incrementAndGet();
    } catch (StoreException e) {
      LockSupport.parkNanos(50_000_000);
      changed("retry after " + e.getMessage());
    }
  }

  public Map<String, String> values() {
    return latest.values();
  }

  @Override
  public void close() {
    subscription.close();
    reader.shutdownNow();
  }
}
