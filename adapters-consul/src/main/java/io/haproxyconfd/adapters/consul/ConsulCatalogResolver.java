package io.haproxyconfd.adapters.consul;

import com.ecwid.consul.v1.ConsulClient;
import com.ecwid.consul.v1.QueryParams;
import com.ecwid.consul.v1.Response;
import com.ecwid.consul.v1.health.HealthServicesRequest;
import com.ecwid.consul.v1.health.model.HealthService;
import io.haproxyconfd.domain.Backend;
import io.haproxyconfd.domain.Port;
import io.haproxyconfd.ports.BackendQuery;
import io.haproxyconfd.ports.BackendResolver;
import io.haproxyconfd.ports.ChangeListener;
import io.haproxyconfd.ports.Resolution;
import io.haproxyconfd.ports.Subscription;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link BackendResolver} on Consul's catalog: a service's backends are its instances that the
 * health endpoint reports as passing (the service's address, else its node's, and its port). The
 * health endpoint is used rather than the catalog one because consul-api drops the token on the
 * latter. Each service asked for is watched with blocking queries; listeners hear of changed sets.
 */
final class ConsulCatalogResolver implements BackendResolver {
  private static final Logger LOG = LoggerFactory.getLogger(ConsulCatalogResolver.class);

  private final ConsulSettings settings;
  private final ConsulClient reads;
  private final ConsulClient watches;
  private final Map<String, Watched> watched = new ConcurrentHashMap<>();
  private final List<ChangeListener> listeners = new CopyOnWriteArrayList<>();

  /** One service's last answer and its blocking-query loop. */
  private final class Watched {
    final String name;
    final Thread thread;
    volatile List<Backend> backends = List.of();
    volatile Optional<String> warning = Optional.empty();
    volatile long index;
    volatile boolean closed;

    Watched(String name) {
      this.name = name;
      this.thread = new Thread(this::loop, "consul-catalog " + name);
      this.thread.setDaemon(true);
    }

    void fetch(ConsulClient client, long wait) {
      HealthServicesRequest request =
          HealthServicesRequest.newBuilder()
              .setPassing(true)
              .setToken(settings.token().orElse(null))
              .setDatacenter(settings.datacenter().orElse(null))
              .setQueryParams(new QueryParams(wait, index))
              .build();
      Response<List<HealthService>> r = client.getHealthServices(name, request);
      long next = r.getConsulIndex() == null ? 0 : r.getConsulIndex();
      index = next < index ? 0 : next;
      List<Backend> found = new ArrayList<>();
      List<String> skipped = new ArrayList<>();
      for (HealthService h : r.getValue()) {
        String address = h.getService().getAddress();
        if (address == null || address.isEmpty()) {
          address = h.getNode().getAddress();
        }
        try {
          found.add(new Backend(address, Port.of(h.getService().getPort())));
        } catch (IllegalArgumentException e) {
          skipped.add(
              h.getService().getId()
                  + " ("
                  + address
                  + ":"
                  + h.getService().getPort()
                  + ": "
                  + e.getMessage()
                  + ")");
        }
      }
      List<Backend> sorted = found.stream().distinct().sorted().toList();
      Optional<String> w =
          skipped.isEmpty()
              ? sorted.isEmpty()
                  ? Optional.of(name + " has no passing instance in Consul")
                  : Optional.empty()
              : Optional.of("instances of " + name + " skipped: " + String.join(", ", skipped));
      boolean changed = !sorted.equals(backends);
      backends = sorted;
      warning = w;
      if (changed && thread.isAlive()) {
        listeners.forEach(l -> l.changed("consul: instances of " + name + " changed"));
      }
    }

    private void loop() {
      Duration backoff = Duration.ZERO;
      while (!closed) {
        try {
          fetch(watches, settings.blockingWait().toSeconds());
          backoff = Duration.ZERO;
        } catch (RuntimeException e) {
          if (closed) {
            return;
          }
          backoff =
              backoff.isZero()
                  ? Duration.ofMillis(100)
                  : ConsulKeyValueSource.min(backoff.multipliedBy(2), Duration.ofSeconds(5));
          warning =
              Optional.of(
                  "Consul catalog unreachable for "
                      + name
                      + " ("
                      + e.getMessage()
                      + "); keeping the last known addresses");
          LOG.warn("{}", warning.get());
          LockSupport.parkNanos(backoff.toNanos());
        }
        LockSupport.parkNanos(Duration.ofMillis(50).toNanos());
      }
    }
  }

  ConsulCatalogResolver(ConsulSettings settings, ConsulClient reads, ConsulClient watches) {
    this.settings = settings;
    this.reads = reads;
    this.watches = watches;
  }

  @Override
  public Map<BackendQuery, Resolution> resolve(Set<BackendQuery> queries) {
    Set<String> names = new java.util.HashSet<>();
    queries.forEach(q -> names.add(q.service().value()));
    watched.keySet().stream()
        .filter(n -> !names.contains(n))
        .toList()
        .forEach(
            n -> {
              Watched w = watched.remove(n);
              w.closed = true;
              w.thread.interrupt();
            });
    Map<BackendQuery, Resolution> result = new HashMap<>();
    for (BackendQuery q : queries) {
      Watched w =
          watched.computeIfAbsent(
              q.service().value(),
              n -> {
                Watched fresh = new Watched(n);
                try {
                  fresh.fetch(reads, 0);
                } catch (RuntimeException e) {
                  fresh.warning =
                      Optional.of(
                          "Consul catalog unreachable for " + n + " (" + e.getMessage() + ")");
                }
                fresh.thread.start();
                return fresh;
              });
      result.put(q, new Resolution(w.backends, w.warning));
    }
    return result;
  }

  @Override
  public Subscription onChange(ChangeListener listener) {
    listeners.add(listener);
    return () -> listeners.remove(listener);
  }

  @Override
  public void close() {
    watched
        .values()
        .forEach(
            w -> {
              w.closed = true;
              w.thread.interrupt();
            });
    watched.clear();
  }
}
