package io.haproxyconfd.adapters.consul;

import com.ecwid.consul.v1.ConsulClient;
import com.ecwid.consul.v1.QueryParams;
import com.ecwid.consul.v1.Response;
import com.ecwid.consul.v1.catalog.model.Node;
import com.ecwid.consul.v1.health.HealthServicesRequest;
import com.ecwid.consul.v1.health.model.Check;
import com.ecwid.consul.v1.health.model.HealthService;
import io.haproxyconfd.domain.Backend;
import io.haproxyconfd.domain.Port;
import io.haproxyconfd.ports.BackendQuery;
import io.haproxyconfd.ports.BackendResolver;
import io.haproxyconfd.ports.Backoff;
import io.haproxyconfd.ports.ChangeListener;
import io.haproxyconfd.ports.DaemonThreads;
import io.haproxyconfd.ports.Resolution;
import io.haproxyconfd.ports.Subscription;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;
import java.util.function.LongFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link BackendResolver} on Consul's catalog: a service's backends are its instances whose every
 * check passes, their nodes' checks included, at the service's address, else its node's, and its
 * port. The health endpoint is used rather than the catalog one because consul-api drops the token
 * on the latter.
 *
 * <p>What it costs does not grow with the number of services watched: three blocking queries run,
 * whatever that number, once someone listens for changes. One is on every check's state ({@code
 * /v1/health/state/any}): each answer for a service keeps the check states it saw, so the services
 * whose checks (or whose nodes' checks) now differ are read again, and only those, on a reader of
 * their own. One is on the nodes ({@code /v1/catalog/nodes}): the services on a node whose address
 * changed are read again. The last is on the catalog's service list ({@code /v1/catalog/services}),
 * whose index moves when any instance is registered or removed: an instance without checks shows
 * nowhere else, so then every watched service is read again, {@value #SWEEPERS} at a time. Reads
 * use at most {@value #READERS} connections. Each index that goes backwards (a restarted agent, a
 * restored snapshot) starts its query over from 0, as Consul's documentation asks. An older answer
 * never replaces a newer one: each keeps its index.
 *
 * <p>An answer Consul's ACLs filtered, or any answer while ACLs are on and no token is set, is a
 * refusal for that service ({@link Resolution#refused}), never an empty set of backends.
 */
final class ConsulCatalogResolver implements BackendResolver {
  private static final Logger LOG = LoggerFactory.getLogger(ConsulCatalogResolver.class);

  /** Reads in flight at once, and so connections for reads: sweeps, and one for the rest. */
  static final int READERS = 4;

  private static final int SWEEPERS = READERS - 1;

  private static final Duration MIN_INTERVAL = Duration.ofMillis(50);
  private static final Backoff BACKOFF = new Backoff(Duration.ofMillis(100), Duration.ofSeconds(5));

  private final ConsulSettings settings;
  private final Consul.Agent readAgent;
  private final Consul.Agent watchAgent;
  private final ConsulClient reads;
  private final ConsulClient watches;
  private final Consul.AclGuard acls;
  private final ExecutorService readers;
  private final ExecutorService sweepers;
  private final Map<String, Answer> answers = new ConcurrentHashMap<>();
  private final List<ChangeListener> listeners = new CopyOnWriteArrayList<>();

  /** The watch threads, once started. Guarded by this resolver's lock. */
  private final List<Thread> loops = new ArrayList<>();

  private volatile boolean closed;

  /**
   * A service's last answer: its backends, the address of each node its instances are on, the
   * states of its checks and its nodes' checks ("node/check=status") as it saw them, and the index
   * it was read at (-1 when Consul did not answer).
   */
  private record Answer(
      Resolution resolution, Map<String, String> nodes, Set<String> checks, long index) {}

  ConsulCatalogResolver(ConsulSettings settings, Consul.Agent reads, Consul.Agent watches) {
    this.settings = settings;
    this.readAgent = reads;
    this.watchAgent = watches;
    this.reads = reads.api();
    this.watches = watches.api();
    this.acls = new Consul.AclGuard(settings, reads);
    this.readers = pool(1, "consul-catalog-read");
    this.sweepers = pool(SWEEPERS, "consul-catalog-sweep");
  }

  private static ExecutorService pool(int threads, String name) {
    return Executors.newFixedThreadPool(threads, DaemonThreads.named(name));
  }

  @Override
  public Map<BackendQuery, Resolution> resolve(Set<BackendQuery> queries) {
    Set<String> names = new HashSet<>();
    queries.forEach(q -> names.add(q.service().value()));
    answers.keySet().retainAll(names);
    // New names, those Consul refused or did not answer for last time (a token's rights change
    // without a catalog change to tell of it), and every name while nothing watches.
    Set<String> fresh = new TreeSet<>(names);
    if (watching()) {
      answers.forEach(
          (name, answer) -> {
            if (!answer.resolution().refused() && answer.index() >= 0) {
              fresh.remove(name);
            }
          });
    }
    readAll(fresh, false, sweepers);
    Map<BackendQuery, Resolution> result = new HashMap<>();
    for (BackendQuery q : queries) {
      Answer a = answers.get(q.service().value());
      result.put(
          q,
          a != null
              ? a.resolution()
              : new Resolution(
                  List.of(), Optional.of("Consul catalog not read for " + q.service())));
    }
    return result;
  }

  private synchronized boolean watching() {
    return !loops.isEmpty();
  }

  /** Reads each service on {@code pool}; signals the ones that changed. */
  private void readAll(Set<String> names, boolean signal, ExecutorService pool) {
    List<Future<?>> pending = new ArrayList<>();
    for (String name : names) {
      pending.add(pool.submit(() -> read(name, signal)));
    }
    for (Future<?> f : pending) {
      try {
        f.get();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      } catch (ExecutionException e) {
        LOG.warn("reading the Consul catalog failed: {}", e.getCause().toString());
      }
    }
  }

  /**
   * One service's instances. All are asked for, not only the passing ones, so that the answer shows
   * every check's state; an instance passes when every check does ({@code ?passing}'s rule). When
   * Consul does not answer, the last answer's backends are kept with a warning.
   */
  private void read(String name, boolean signal) {
    Answer now;
    try {
      Optional<String> refused = acls.refusal();
      if (refused.isPresent()) {
        now = new Answer(Resolution.refused(refused.get()), Map.of(), Set.of(), -1);
      } else {
        HealthServicesRequest request =
            HealthServicesRequest.newBuilder()
                .setDatacenter(settings.datacenter().orElse(null))
                .build();
        Response<List<HealthService>> r = reads.getHealthServices(name, request);
        now = answer(name, r.getValue(), r.getConsulIndex() == null ? 0 : r.getConsulIndex());
      }
    } catch (RuntimeException e) {
      String why = Consul.classify(e, "the instances of " + name).getMessage();
      if (Consul.isAclFiltered(e) || why.contains("CONSUL_DATACENTER")) {
        now = new Answer(Resolution.refused(why), Map.of(), Set.of(), -1);
      } else {
        Answer before = answers.get(name);
        List<Backend> kept = before == null ? List.of() : before.resolution().backends();
        now =
            new Answer(
                new Resolution(
                    kept,
                    Optional.of(why + "; keeping the last " + kept.size() + " known address(es)")),
                before == null ? Map.of() : before.nodes(),
                Set.of(),
                -1);
      }
    }
    if (closed) {
      return;
    }
    Answer fresh = now;
    Answer[] replaced = new Answer[1];
    Answer stored =
        answers.compute(
            name,
            (n, old) -> {
              replaced[0] = old;
              // A read that started before another but answers after it must not undo it.
              return old != null && fresh.index() >= 0 && old.index() > fresh.index() ? old : fresh;
            });
    Answer before = replaced[0];
    if (signal
        && stored == fresh
        && (before == null || !before.resolution().equals(fresh.resolution()))) {
      listeners.forEach(l -> l.changed("consul: instances of " + name + " changed"));
    }
  }

  private static Answer answer(String name, List<HealthService> entries, long index) {
    List<Backend> found = new ArrayList<>();
    List<String> skipped = new ArrayList<>();
    Map<String, String> nodes = new TreeMap<>();
    Set<String> checks = new TreeSet<>();
    for (HealthService h : entries) {
      nodes.put(h.getNode().getNode(), String.valueOf(h.getNode().getAddress()));
      boolean passing = true;
      for (Check c : h.getChecks() == null ? List.<Check>of() : h.getChecks()) {
        checks.add(state(c));
        passing &= c.getStatus() == Check.CheckStatus.PASSING;
      }
      if (!passing) {
        continue;
      }
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
    Optional<String> warning =
        !skipped.isEmpty()
            ? Optional.of("instances of " + name + " skipped: " + String.join(", ", skipped))
            : found.isEmpty()
                ? Optional.of(name + " has no passing instance in Consul")
                : Optional.empty();
    return new Answer(new Resolution(found, warning), nodes, checks, index);
  }

  private static String state(Check c) {
    return c.getNode() + "/" + c.getCheckId() + "=" + c.getStatus();
  }

  // ---- the three watches ------------------------------------------------------------------------

  /** Starts the watches, once: only a listener needs them. */
  private synchronized void startLoops() {
    if (!loops.isEmpty() || closed) {
      return;
    }
    loops.add(
        loop(
            "consul-health-state",
            index -> watches.getHealthChecksState(params(index)),
            this::checksChanged));
    loops.add(
        loop(
            "consul-catalog-nodes",
            index -> watches.getCatalogNodes(params(index)),
            this::nodesChanged));
    loops.add(
        loop(
            "consul-catalog-services",
            index -> watches.getCatalogServices(params(index)),
            services -> readAll(new TreeSet<>(answers.keySet()), true, sweepers)));
  }

  private QueryParams params(long index) {
    return new QueryParams(
        settings.datacenter().orElse(null), settings.blockingWait().toSeconds(), index);
  }

  /**
   * Every check's state now: re-reads only the services whose own or nodes' checks differ from what
   * their last answer saw.
   */
  private void checksChanged(List<Check> checks) {
    Map<String, Set<String>> byNode = new HashMap<>();
    Map<String, Set<String>> byService = new HashMap<>();
    for (Check c : checks) {
      String service = c.getServiceName();
      if (service == null || service.isEmpty()) {
        byNode.computeIfAbsent(c.getNode(), n -> new TreeSet<>()).add(state(c));
      } else {
        byService.computeIfAbsent(service, n -> new TreeSet<>()).add(state(c));
      }
    }
    Set<String> changed = new TreeSet<>();
    answers.forEach(
        (name, answer) -> {
          Set<String> now = new TreeSet<>(byService.getOrDefault(name, Set.of()));
          answer.nodes().keySet().forEach(n -> now.addAll(byNode.getOrDefault(n, Set.of())));
          if (!now.equals(answer.checks())) {
            changed.add(name);
          }
        });
    readAll(changed, true, readers);
  }

  /** Every node's address now: re-reads the services on a node whose address differs. */
  private void nodesChanged(List<Node> nodes) {
    Map<String, String> addresses = new HashMap<>();
    nodes.forEach(n -> addresses.put(n.getNode(), String.valueOf(n.getAddress())));
    Set<String> changed = new TreeSet<>();
    answers.forEach(
        (name, answer) ->
            answer
                .nodes()
                .forEach(
                    (node, address) -> {
                      String now = addresses.get(node);
                      if (now != null && !now.equals(address)) {
                        changed.add(name);
                      }
                    }));
    readAll(changed, true, readers);
  }

  /**
   * A blocking-query loop on its own thread: each answer with a new index goes to {@code onChange};
   * an index that goes backwards starts over from 0; errors back off, and the first answer after
   * them counts as a change.
   */
  private <T> Thread loop(String name, LongFunction<Response<T>> query, Consumer<T> onChange) {
    Thread t =
        DaemonThreads.create(
            name,
            () -> {
              long index = 0;
              Duration backoff = Duration.ZERO;
              boolean failing = false;
              while (!closed) {
                long started = System.nanoTime();
                try {
                  Response<T> r = query.apply(index);
                  long next = r.getConsulIndex() == null ? 0 : r.getConsulIndex();
                  if (next < index) {
                    LOG.info(
                        "{}: Consul's index went backwards ({} -> {}); reading again from the"
                            + " start",
                        name,
                        index,
                        next);
                    index = 0;
                    // The answers' own indexes are from before: none may hold off what comes.
                    answers.replaceAll(
                        (n, a) -> new Answer(a.resolution(), a.nodes(), a.checks(), -1));
                    // Whatever changed around the reset may show in no diff: read every service
                    // again, as Consul's documentation asks of a client whose index went back.
                    readAll(new TreeSet<>(answers.keySet()), true, sweepers);
                  } else if (next > index || failing) {
                    index = next;
                    onChange.accept(r.getValue());
                  }
                  failing = false;
                  backoff = Duration.ZERO;
                } catch (RuntimeException e) {
                  if (closed) {
                    return;
                  }
                  failing = true;
                  backoff = BACKOFF.after(backoff);
                  LOG.warn(
                      "{} failed ({}); retrying in {} ms",
                      name,
                      Consul.classify(e, name).getMessage(),
                      backoff.toMillis());
                  LockSupport.parkNanos(backoff.toNanos());
                }
                // Consul answers at once when the index is already past ours: never spin on it.
                long elapsed = System.nanoTime() - started;
                if (elapsed < MIN_INTERVAL.toNanos() && !closed) {
                  LockSupport.parkNanos(MIN_INTERVAL.toNanos() - elapsed);
                }
              }
            });
    t.start();
    return t;
  }

  @Override
  public Subscription onChange(ChangeListener listener) {
    listeners.add(listener);
    startLoops();
    return () -> listeners.remove(listener);
  }

  @Override
  public void close() {
    closed = true;
    synchronized (this) {
      loops.forEach(Thread::interrupt);
    }
    readers.shutdownNow();
    sweepers.shutdownNow();
    // A blocking read ignores interrupts: closing the HTTP clients ends it now, not after its wait.
    watchAgent.close();
    readAgent.close();
    answers.clear();
  }
}
