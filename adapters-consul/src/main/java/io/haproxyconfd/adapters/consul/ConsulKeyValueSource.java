package io.haproxyconfd.adapters.consul;

import com.ecwid.consul.v1.ConsulClient;
import com.ecwid.consul.v1.QueryParams;
import com.ecwid.consul.v1.Response;
import com.ecwid.consul.v1.kv.model.GetValue;
import io.haproxyconfd.domain.KeySnapshot;
import io.haproxyconfd.domain.ProxyId;
import io.haproxyconfd.ports.Backoff;
import io.haproxyconfd.ports.ChangeListener;
import io.haproxyconfd.ports.DaemonThreads;
import io.haproxyconfd.ports.KeyValueSource;
import io.haproxyconfd.ports.StoreException;
import io.haproxyconfd.ports.Subscription;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link KeyValueSource} on Consul KV. A read is one recursive GET of {@code haproxy-<id>/} (a 404
 * is an empty prefix; its {@code X-Consul-Index} still counts). A watch is a loop of blocking
 * queries from the last index: a higher index is a change; a lower one means Consul's index was
 * reset, so the loop starts over from 0 and signals (as Consul's documentation says). Errors back
 * off, and a change is signalled after the store answers again, in case one was missed.
 *
 * <p>Keys are never sent to Consul except the prefix, whose characters the proxy id's grammar
 * limits; consul-api does not URL-encode, and no key with {@code ?}, {@code #} or a space can be
 * asked for.
 *
 * <p>It holds one connection for reads and one for its watch, so it serves one watch at a time (the
 * daemon's one); a second concurrent watch waits for the connection and backs off.
 */
final class ConsulKeyValueSource implements KeyValueSource {
  private static final Logger LOG = LoggerFactory.getLogger(ConsulKeyValueSource.class);
  private static final Duration MIN_INTERVAL = Duration.ofMillis(50);
  private static final Backoff BACKOFF = new Backoff(Duration.ofMillis(100), Duration.ofSeconds(5));

  private final ConsulSettings settings;
  private final Consul.Agent readAgent;
  private final Consul.Agent watchAgent;
  private final ConsulClient reads;
  private final ConsulClient watches;
  private final Consul.AclGuard acls;
  private final Set<Watcher> watchers = ConcurrentHashMap.newKeySet();

  ConsulKeyValueSource(ConsulSettings settings, Consul.Agent reads, Consul.Agent watches) {
    this.settings = settings;
    this.readAgent = reads;
    this.watchAgent = watches;
    this.reads = reads.api();
    this.watches = watches.api();
    this.acls = new Consul.AclGuard(settings, reads);
  }

  static String prefix(ProxyId proxy) {
    return proxy.folder() + "/";
  }

  @Override
  public KeySnapshot read(ProxyId proxy) throws StoreException {
    String prefix = prefix(proxy);
    Response<List<GetValue>> response;
    try {
      java.util.Optional<String> refused = acls.refusal();
      if (refused.isPresent()) {
        throw StoreException.refused(refused.get(), null);
      }
      response =
          reads.getKVValues(prefix, null, new QueryParams(settings.datacenter().orElse(null)));
    } catch (RuntimeException e) {
      throw Consul.classify(e, "reading " + prefix);
    }
    TreeMap<String, KeySnapshot.Entry> entries = new TreeMap<>();
    if (response.getValue() != null) {
      for (GetValue v : response.getValue()) {
        if (v.getKey().length() <= prefix.length()) {
          continue;
        }
        byte[] bytes =
            v.getValue() == null ? new byte[0] : Base64.getDecoder().decode(v.getValue());
        entries.put(
            v.getKey().substring(prefix.length()),
            new KeySnapshot.Entry(KeySnapshot.decode(bytes), v.getCreateIndex()));
      }
    }
    return new KeySnapshot(index(response), entries);
  }

  private static long index(Response<?> response) {
    Long index = response.getConsulIndex();
    return index == null ? 0 : index;
  }

  @Override
  public Subscription watch(ProxyId proxy, long revision, ChangeListener listener) {
    Watcher w = new Watcher(prefix(proxy), revision, listener);
    watchers.add(w);
    w.thread.start();
    return w;
  }

  @Override
  public void close() {
    watchers.forEach(Watcher::close);
    // A blocking read ignores interrupts: closing the HTTP clients ends it now, not after its wait.
    watchAgent.close();
    readAgent.close();
  }

  /** One blocking-query loop on its own thread. */
  private final class Watcher implements Subscription {
    private final String prefix;
    private final ChangeListener listener;
    private final Thread thread;
    private volatile boolean closed;
    private long index;

    Watcher(String prefix, long index, ChangeListener listener) {
      this.prefix = prefix;
      this.index = index;
      this.listener = listener;
      this.thread = DaemonThreads.create("consul-watch " + prefix, this::loop);
    }

    private void loop() {
      Duration backoff = Duration.ZERO;
      boolean failing = false;
      while (!closed) {
        long started = System.nanoTime();
        try {
          Response<List<GetValue>> r =
              watches.getKVValues(
                  prefix,
                  null,
                  new QueryParams(
                      settings.datacenter().orElse(null),
                      settings.blockingWait().toSeconds(),
                      index));
          long next = index(r);
          if (failing) {
            failing = false;
            backoff = Duration.ZERO;
            listener.changed("consul: answering again after errors");
          }
          if (next < index) {
            LOG.info("consul index went backwards ({} -> {}); reading from the start", index, next);
            index = 0;
            listener.changed("consul: index reset");
          } else if (next > index) {
            index = next;
            listener.changed("consul: index " + next + " under " + prefix);
          }
        } catch (RuntimeException e) {
          if (closed) {
            return;
          }
          failing = true;
          backoff = BACKOFF.after(backoff);
          LOG.warn(
              "consul watch of {} failed ({}); retrying in {} ms",
              prefix,
              e.getMessage(),
              backoff.toMillis());
          LockSupport.parkNanos(backoff.toNanos());
        }
        // Consul answers at once when the index is already past ours: never spin on it.
        long elapsed = System.nanoTime() - started;
        if (elapsed < MIN_INTERVAL.toNanos() && !closed) {
          LockSupport.parkNanos(MIN_INTERVAL.toNanos() - elapsed);
        }
      }
    }

    @Override
    public void close() {
      closed = true;
      watchers.remove(this);
      thread.interrupt();
    }
  }
}
