package io.haproxyconfd.adapters.dns;

import io.haproxyconfd.domain.Backend;
import io.haproxyconfd.domain.Port;
import io.haproxyconfd.ports.BackendQuery;
import io.haproxyconfd.ports.BackendResolver;
import io.haproxyconfd.ports.ChangeListener;
import io.haproxyconfd.ports.DaemonThreads;
import io.haproxyconfd.ports.Resolution;
import io.haproxyconfd.ports.Subscription;
import java.net.InetAddress;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xbill.DNS.AAAARecord;
import org.xbill.DNS.ARecord;
import org.xbill.DNS.ExtendedResolver;
import org.xbill.DNS.Name;
import org.xbill.DNS.Resolver;
import org.xbill.DNS.SRVRecord;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.TextParseException;
import org.xbill.DNS.Type;
import org.xbill.DNS.lookup.LookupResult;
import org.xbill.DNS.lookup.LookupSession;
import org.xbill.DNS.lookup.NoSuchDomainException;
import org.xbill.DNS.lookup.NoSuchRRSetException;

/**
 * {@link BackendResolver} on DNS. Each service name is looked up when first asked for and again
 * when its answer's TTL runs out (kept between the floor and the ceiling). No cache is shared with
 * anything else: dnsjava's static cache would serve stale answers after a change.
 *
 * <p>A timeout or server failure keeps the last known addresses; a name that stops resolving keeps
 * them for a grace period, so that a DNS blip does not take a service down. Listeners hear only of
 * changes of an address set.
 */
final class DnsBackendResolver implements BackendResolver {
  private static final Logger LOG = LoggerFactory.getLogger(DnsBackendResolver.class);

  private final DnsSettings settings;
  private final Clock clock;
  private final LookupSession session;
  private final ScheduledExecutorService refresher =
      Executors.newSingleThreadScheduledExecutor(DaemonThreads.named("dns-refresh"));
  private final Map<BackendQuery, Entry> entries = new ConcurrentHashMap<>();
  private final List<ChangeListener> listeners = new CopyOnWriteArrayList<>();

  /** The outcome of one lookup. */
  private record Answer(Kind kind, List<Backend> backends, Duration ttl, String error) {
    enum Kind {
      FOUND,
      NOT_FOUND,
      FAILED
    }
  }

  /** What is known of one service name. */
  /** One query's answer and refresh; its fields are guarded by the entry's own lock. */
  private static final class Entry {
    List<Backend> backends = List.of();
    Optional<String> warning = Optional.empty();
    Instant missingSince;
    ScheduledFuture<?> refresh;
    boolean forgotten;
  }

  DnsBackendResolver(DnsSettings settings, Clock clock) {
    this.settings = settings;
    this.clock = clock;
    List<Resolver> servers = new ArrayList<>();
    for (var address : settings.servers()) {
      SimpleResolver r = new SimpleResolver(address);
      r.setTimeout(settings.timeout());
      servers.add(r);
    }
    ExtendedResolver resolver = new ExtendedResolver(servers);
    resolver.setTimeout(settings.timeout());
    resolver.setRetries(1);
    LookupSession.LookupSessionBuilder builder =
        LookupSession.builder().resolver(resolver).ndots(settings.ndots()).executor(refresher);
    for (String domain : settings.search()) {
      try {
        builder.searchPath(Name.fromString(domain, Name.root));
      } catch (TextParseException e) {
        throw new IllegalArgumentException("search domain '" + domain + "' is not a DNS name", e);
      }
    }
    this.session = builder.build();
  }

  @Override
  public Map<BackendQuery, Resolution> resolve(Set<BackendQuery> queries) {
    entries.keySet().stream().filter(q -> !queries.contains(q)).toList().forEach(this::forget);
    Map<BackendQuery, CompletableFuture<Answer>> fresh = new HashMap<>();
    for (BackendQuery q : queries) {
      if (!entries.containsKey(q)) {
        fresh.put(q, lookup(q));
      }
    }
    for (var e : fresh.entrySet()) {
      Answer answer;
      try {
        answer =
            e.getValue().get(settings.timeout().multipliedBy(3).toMillis(), TimeUnit.MILLISECONDS);
      } catch (InterruptedException ex) {
        Thread.currentThread().interrupt();
        answer = new Answer(Answer.Kind.FAILED, List.of(), Duration.ZERO, "interrupted");
      } catch (Exception ex) {
        answer = new Answer(Answer.Kind.FAILED, List.of(), Duration.ZERO, describe(ex));
      }
      Entry entry = new Entry();
      entries.put(e.getKey(), entry);
      apply(e.getKey(), entry, answer);
    }
    Map<BackendQuery, Resolution> result = new HashMap<>();
    for (BackendQuery q : queries) {
      Entry entry = entries.get(q);
      synchronized (entry) {
        result.put(q, new Resolution(entry.backends, entry.warning));
      }
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
    refresher.shutdownNow();
    entries.clear();
  }

  private void forget(BackendQuery q) {
    Entry entry = entries.remove(q);
    if (entry != null) {
      synchronized (entry) {
        entry.forgotten = true;
        if (entry.refresh != null) {
          entry.refresh.cancel(false);
        }
      }
    }
  }

  /** Records an answer, schedules the next lookup; true when the address set changed. */
  private boolean apply(BackendQuery q, Entry entry, Answer answer) {
    String name = q.service().value();
    Instant now = clock.instant();
    Duration next;
    boolean changed;
    synchronized (entry) {
      if (entry.forgotten) {
        return false;
      }
      List<Backend> before = entry.backends;
      switch (answer.kind()) {
        case FOUND -> {
          entry.backends = answer.backends();
          entry.warning = Optional.empty();
          entry.missingSince = null;
          next = clamp(answer.ttl());
        }
        case NOT_FOUND -> {
          if (entry.missingSince == null) {
            entry.missingSince = now;
          }
          Duration missing = Duration.between(entry.missingSince, now);
          if (before.isEmpty() || missing.compareTo(settings.emptyGrace()) >= 0) {
            entry.backends = List.of();
            entry.warning = Optional.of(name + " has no address in DNS (" + answer.error() + ")");
            next = settings.ttlFloor();
          } else {
            Duration left = settings.emptyGrace().minus(missing);
            entry.warning =
                Optional.of(
                    name
                        + " stopped resolving ("
                        + answer.error()
                        + "); keeping its last "
                        + before.size()
                        + " address(es) for "
                        + left.toSeconds()
                        + " s more");
            next = min(settings.ttlFloor(), left);
          }
        }
        default -> {
          entry.warning =
              Optional.of(
                  "DNS lookup of "
                      + name
                      + " failed ("
                      + answer.error()
                      + "); keeping the last "
                      + before.size()
                      + " known address(es)");
          next = settings.ttlFloor();
        }
      }
      changed = !before.equals(entry.backends);
      entry.refresh =
          refresher.schedule(() -> refresh(q, entry), next.toMillis(), TimeUnit.MILLISECONDS);
    }
    entry.warning.ifPresent(w -> LOG.warn("{}", w));
    return changed;
  }

  private void refresh(BackendQuery q, Entry entry) {
    lookup(q)
        .exceptionally(e -> new Answer(Answer.Kind.FAILED, List.of(), Duration.ZERO, describe(e)))
        .thenAccept(
            answer -> {
              if (apply(q, entry, answer)) {
                String reason = "dns: addresses of " + q.service() + " changed";
                LOG.info("{}: {}", reason, entry.backends);
                listeners.forEach(l -> l.changed(reason));
              }
            });
  }

  private CompletableFuture<Answer> lookup(BackendQuery q) {
    Name name;
    try {
      name =
          Name.fromString(
              settings.srv() ? "_http._tcp." + q.service().value() : q.service().value());
    } catch (TextParseException e) {
      return CompletableFuture.completedFuture(
          new Answer(Answer.Kind.FAILED, List.of(), Duration.ZERO, "not a DNS name"));
    }
    if (settings.srv()) {
      return lookupSrv(name);
    }
    if (q.port().isEmpty()) {
      return CompletableFuture.completedFuture(
          new Answer(
              Answer.Kind.FAILED, List.of(), Duration.ZERO, "no port to go with the addresses"));
    }
    return addresses(name, q.port().get());
  }

  /** A and AAAA together: found if either has records. */
  private CompletableFuture<Answer> addresses(Name name, Port port) {
    CompletableFuture<Answer> a = typed(name, Type.A, port);
    CompletableFuture<Answer> aaaa = typed(name, Type.AAAA, port);
    return a.thenCombine(aaaa, DnsBackendResolver::merge);
  }

  private CompletableFuture<Answer> typed(Name name, int type, Port port) {
    return session
        .lookupAsync(name, type)
        .toCompletableFuture()
        .thenApply(result -> found(result, port))
        .exceptionally(DnsBackendResolver::failure);
  }

  private CompletableFuture<Answer> lookupSrv(Name name) {
    return session
        .lookupAsync(name, Type.SRV)
        .toCompletableFuture()
        .thenCompose(
            result -> {
              List<CompletableFuture<Answer>> targets = new ArrayList<>();
              long ttl = Long.MAX_VALUE;
              for (var r : result.getRecords()) {
                if (r instanceof SRVRecord srv) {
                  ttl = Math.min(ttl, srv.getTTL());
                  targets.add(addresses(srv.getTarget(), Port.of(srv.getPort())));
                }
              }
              Duration srvTtl = Duration.ofSeconds(ttl == Long.MAX_VALUE ? 0 : ttl);
              return CompletableFuture.allOf(targets.toArray(CompletableFuture[]::new))
                  .thenApply(
                      v ->
                          targets.stream()
                              .map(CompletableFuture::join)
                              .reduce(
                                  new Answer(
                                      Answer.Kind.NOT_FOUND,
                                      List.of(),
                                      srvTtl,
                                      "SRV targets have no address"),
                                  DnsBackendResolver::merge));
            })
        .exceptionally(DnsBackendResolver::failure);
  }

  private static Answer found(LookupResult result, Port port) {
    List<Backend> backends = new ArrayList<>();
    long ttl = Long.MAX_VALUE;
    for (var r : result.getRecords()) {
      InetAddress address = null;
      if (r instanceof ARecord a) {
        address = a.getAddress();
      } else if (r instanceof AAAARecord aaaa) {
        address = aaaa.getAddress();
      }
      if (address != null) {
        backends.add(new Backend(address.getHostAddress(), port));
        ttl = Math.min(ttl, r.getTTL());
      }
    }
    if (backends.isEmpty()) {
      return new Answer(Answer.Kind.NOT_FOUND, List.of(), Duration.ZERO, "no records");
    }
    return new Answer(Answer.Kind.FOUND, backends, Duration.ofSeconds(ttl), "");
  }

  private static Answer failure(Throwable e) {
    Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
    if (cause instanceof NoSuchDomainException) {
      return new Answer(Answer.Kind.NOT_FOUND, List.of(), Duration.ZERO, "NXDOMAIN");
    }
    if (cause instanceof NoSuchRRSetException) {
      return new Answer(Answer.Kind.NOT_FOUND, List.of(), Duration.ZERO, "no records");
    }
    return new Answer(Answer.Kind.FAILED, List.of(), Duration.ZERO, describe(cause));
  }

  /** Found beats not-found beats failed; addresses add up; the shorter TTL wins. */
  private static Answer merge(Answer x, Answer y) {
    if (x.kind() == Answer.Kind.FOUND && y.kind() == Answer.Kind.FOUND) {
      List<Backend> all = new ArrayList<>(x.backends());
      all.addAll(y.backends());
      return new Answer(Answer.Kind.FOUND, all, min(x.ttl(), y.ttl()), "");
    }
    if (x.kind() == Answer.Kind.FOUND) {
      return x;
    }
    if (y.kind() == Answer.Kind.FOUND) {
      return y;
    }
    return x.kind() == Answer.Kind.FAILED ? x : y;
  }

  private Duration clamp(Duration ttl) {
    if (ttl.compareTo(settings.ttlFloor()) < 0) {
      return settings.ttlFloor();
    }
    return ttl.compareTo(settings.ttlCeiling()) > 0 ? settings.ttlCeiling() : ttl;
  }

  private static Duration min(Duration a, Duration b) {
    return a.compareTo(b) <= 0 ? a : b;
  }

  private static String describe(Throwable e) {
    Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
    String name = cause.getClass().getSimpleName();
    return cause.getMessage() == null ? name : name + ": " + cause.getMessage();
  }
}
