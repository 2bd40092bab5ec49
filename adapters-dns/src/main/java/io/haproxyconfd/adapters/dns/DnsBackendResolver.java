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
import java.time.temporal.ChronoUnit;
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
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.LongAdder;
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
 * before its answer's TTL runs out (kept between the floor and the ceiling). No cache is shared
 * with anything else: dnsjava's static cache would serve stale answers after a change.
 *
 * <p>At thousands of names the resolver must not be hit in bursts, so:
 *
 * <ul>
 *   <li>a name's first refresh falls at a random point of its TTL and later ones at 90-100 % of it,
 *       so names looked up together (at start, after an outage) do not stay in step;
 *   <li>at most {@link DnsSettings#maxInFlight()} names are looked up at once, first lookups ahead
 *       of refreshes ({@link LookupGate});
 *   <li>a name whose lookups fail is retried with a doubling, jittered backoff (up to 30 s), and
 *       the log gets a summary per interval, not a line per lookup ({@link FailureReport}).
 * </ul>
 *
 * <p>A timeout or server failure keeps the last known addresses; a name that stops resolving
 * (NXDOMAIN, no records) keeps them for {@link DnsSettings#emptyGrace()}, so that a DNS blip does
 * not take a service down. Listeners hear of changes of an address set, and of the first answer of
 * a name that a resolve returned as still pending.
 */
final class DnsBackendResolver implements BackendResolver {
  private static final Logger LOG = LoggerFactory.getLogger(DnsBackendResolver.class);

  /** Refreshes after the first come at (1 - JITTER..1) x TTL: they keep the spread. */
  private static final double JITTER = 0.1;

  /** How often, while lookups fail, one summary line is logged. */
  private static final Duration REPORT_EVERY = Duration.ofSeconds(30);

  /** The longest wait between two lookups of a name that fails or does not exist. */
  private static final Duration MAX_BACKOFF = Duration.ofSeconds(30);

  private final DnsSettings settings;
  private final Clock clock;
  private final LookupSession session;
  private final ScheduledExecutorService refresher =
      Executors.newSingleThreadScheduledExecutor(DaemonThreads.named("dns-refresh"));
  private final LookupGate gate;
  private final FailureReport report;
  private final Map<BackendQuery, Entry> entries = new ConcurrentHashMap<>();
  private final List<ChangeListener> listeners = new CopyOnWriteArrayList<>();

  /** Queries whose answer changed since {@link #takeChanges}, recorded before the signal. */
  private final Set<BackendQuery> answersChanged = ConcurrentHashMap.newKeySet();

  private final LongAdder lookups = new LongAdder();
  private final LongAdder queries = new LongAdder();
  private final LongAdder timeouts = new LongAdder();
  private final LongAdder failures = new LongAdder();
  private final LongAdder notFound = new LongAdder();
  private volatile boolean closed;

  /** Whether a resolve has run: the first one waits up to the start timeout. */
  private boolean started;

  /** The outcome of one lookup. */
  private record Answer(Kind kind, List<Backend> backends, Duration ttl, String error) {
    enum Kind {
      FOUND,
      NOT_FOUND,
      /** The server answered with an error (SERVFAIL, REFUSED...): a definite failure. */
      FAILED,
      /** No answer at all: the name is not answered yet, and the daemon not ready while so. */
      TIMED_OUT
    }
  }

  /** One query's answer and refresh; its fields are guarded by the entry's own lock. */
  private static final class Entry {
    List<Backend> backends = List.of();
    Optional<String> warning = Optional.empty();

    /** It had an answer or a definite failure. */
    boolean answered;

    /** A resolve returned it as pending: its first answer is signalled. */
    boolean toldPending;

    final CompletableFuture<Void> firstAnswer = new CompletableFuture<>();

    /** Since when it has had no records (NXDOMAIN or an empty answer), or null. */
    Instant missingSince;

    /** Since when its lookups have failed (timeouts, server failures), or null. */
    Instant failingSince;

    String firstError;

    /** Answers in a row that found no address: the backoff. */
    int misses;

    /** Its refreshes are spread already: the next one comes near the end of the TTL. */
    boolean spread;

    ScheduledFuture<?> refresh;
    boolean forgotten;
  }

  DnsBackendResolver(DnsSettings settings, Clock clock) {
    this.settings = settings;
    this.clock = clock;
    this.gate = new LookupGate(settings.maxInFlight());
    this.report = new FailureReport(LOG::warn, LOG::info, gate::waiting);
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
    long every = REPORT_EVERY.toMillis();
    refresher.scheduleWithFixedDelay(
        () -> report.tick(clock.instant()), every, every, TimeUnit.MILLISECONDS);
  }

  @Override
  public Map<BackendQuery, Resolution> resolve(Set<BackendQuery> queries) {
    return resolve(queries, queries);
  }

  /** Looks up the new names among {@code asked} and answers for {@code asked} alone. */
  @Override
  public Map<BackendQuery, Resolution> resolve(
      Set<BackendQuery> interest, Set<BackendQuery> asked) {
    List<Entry> fresh = new ArrayList<>();
    for (BackendQuery q : asked) {
      if (!entries.containsKey(q)) {
        Entry entry = new Entry();
        entries.put(q, entry);
        fresh.add(entry);
        submit(q, entry, true);
      }
    }
    // Every name looked up was in the interest of its time, and a name new to the interest is
    // asked for (and so looked up above): names to forget exist only when there are more names
    // than the interest holds, and a pass at 10,000 services that asks about one walks none.
    if (entries.size() > interest.size()) {
      for (var it = entries.entrySet().iterator(); it.hasNext(); ) {
        var e = it.next();
        if (!interest.contains(e.getKey())) {
          it.remove();
          forget(e.getKey(), e.getValue());
        }
      }
    }
    boolean first = !started;
    if (!fresh.isEmpty()) {
      started = true;
      long began = System.nanoTime();
      // At start, every service waits for its first answer: none starts empty because its lookup
      // was queued behind others. Later, a pass does not wait long on DNS; what is left answers
      // with a signal.
      awaitFirstAnswers(
          fresh, first ? settings.startTimeout() : settings.timeout().multipliedBy(3));
      if (first) {
        logStart(fresh, Duration.ofNanos(System.nanoTime() - began));
      }
    }
    Map<BackendQuery, Resolution> result = new HashMap<>();
    for (BackendQuery q : asked) {
      Entry entry = entries.get(q);
      if (entry == null) { // closed meanwhile
        result.put(q, Resolution.pending("the DNS resolver is closing"));
        continue;
      }
      synchronized (entry) {
        if (entry.answered) {
          result.put(q, new Resolution(entry.backends, entry.warning));
        } else {
          entry.toldPending = true;
          result.put(
              q,
              Resolution.pending(
                  entry.failingSince == null
                      ? "no DNS answer for " + q.service().value() + " yet; its lookup is queued"
                      : "no DNS answer for "
                          + q.service().value()
                          + " yet: its lookups time out ("
                          + entry.firstError
                          + ")"));
        }
      }
    }
    return result;
  }

  private static void awaitFirstAnswers(List<Entry> fresh, Duration bound) {
    try {
      CompletableFuture.allOf(
              fresh.stream().map(e -> e.firstAnswer).toArray(CompletableFuture[]::new))
          .get(bound.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (TimeoutException | ExecutionException e) {
      // the entries still waiting are answered as pending, and signal when they settle
    }
  }

  private void logStart(List<Entry> fresh, Duration took) {
    int found = 0;
    int missing = 0;
    int failed = 0;
    int waiting = 0;
    for (Entry e : fresh) {
      synchronized (e) {
        if (!e.answered) {
          waiting++;
        } else if (e.failingSince != null) {
          failed++;
        } else if (e.backends.isEmpty()) {
          missing++;
        } else {
          found++;
        }
      }
    }
    String line =
        String.format(
            "DNS: %d name(s) looked up in %d ms: %d found, %d without an address, %d failed",
            fresh.size(), took.toMillis(), found, missing, failed);
    if (waiting == 0) {
      LOG.info("{}", line);
    } else {
      LOG.warn(
          "{}, {} still unanswered after the start timeout of {} s; they are served once they"
              + " answer",
          line,
          waiting,
          settings.startTimeout().toSeconds());
    }
  }

  @Override
  public Subscription onChange(ChangeListener listener) {
    listeners.add(listener);
    return () -> listeners.remove(listener);
  }

  @Override
  public Optional<Set<BackendQuery>> takeChanges() {
    Set<BackendQuery> taken = new java.util.HashSet<>();
    for (var it = answersChanged.iterator(); it.hasNext(); ) {
      taken.add(it.next());
      it.remove();
    }
    return Optional.of(taken);
  }

  @Override
  public Map<String, Long> counters() {
    Map<String, Long> c = new java.util.LinkedHashMap<>();
    c.put("dns_lookups_total", lookups.sum());
    c.put("dns_queries_total", queries.sum());
    c.put("dns_timeouts_total", timeouts.sum());
    c.put("dns_failures_total", failures.sum());
    c.put("dns_not_found_total", notFound.sum());
    c.put("dns_lookups_in_flight", (long) gate.running());
    c.put("dns_lookups_waiting", (long) gate.waiting());
    c.put("dns_names", (long) entries.size());
    c.put("dns_names_failing", (long) report.failing());
    return c;
  }

  @Override
  public void close() {
    closed = true;
    refresher.shutdownNow();
    gate.clear();
    // a resolve waiting for first answers returns now, not at the end of the start timeout
    entries.values().forEach(e -> e.firstAnswer.complete(null));
    entries.clear();
  }

  private void forget(BackendQuery q, Entry entry) {
    synchronized (entry) {
      entry.forgotten = true;
      if (entry.refresh != null) {
        entry.refresh.cancel(false);
      }
    }
    entry.firstAnswer.complete(null);
    report.settled(q);
  }

  /** Queues a lookup of {@code q}; its answer is recorded in {@code entry}. */
  private void submit(BackendQuery q, Entry entry, boolean firstLookup) {
    gate.submit(
        firstLookup,
        () -> {
          synchronized (entry) {
            if (entry.forgotten || closed) {
              return CompletableFuture.completedFuture(null);
            }
          }
          lookups.increment();
          CompletableFuture<Answer> asked;
          try {
            asked = lookup(q);
          } catch (RuntimeException e) {
            asked = CompletableFuture.failedFuture(e);
          }
          return asked
              .exceptionally(
                  e -> new Answer(Answer.Kind.FAILED, List.of(), Duration.ZERO, describe(e)))
              .thenAccept(answer -> settle(q, entry, answer))
              .exceptionally(
                  e -> {
                    LOG.error("DNS: recording the answer for {} failed", q.service(), e);
                    return null;
                  });
        });
  }

  /** Records an answer, schedules the next lookup, and signals a change. */
  private void settle(BackendQuery q, Entry entry, Answer answer) {
    String name = q.service().value();
    Instant now = clock.instant();
    Duration next;
    boolean signal;
    boolean changed;
    boolean answered;
    synchronized (entry) {
      if (entry.forgotten || closed) {
        return;
      }
      List<Backend> before = entry.backends;
      boolean wasAnswered = entry.answered;
      switch (answer.kind()) {
        case FOUND -> {
          entry.backends = answer.backends();
          entry.warning = Optional.empty();
          entry.missingSince = null;
          entry.failingSince = null;
          entry.firstError = null;
          entry.misses = 0;
          next = spread(clamp(answer.ttl()), entry.spread);
          entry.spread = true;
        }
        case NOT_FOUND -> {
          notFound.increment();
          entry.failingSince = null;
          entry.firstError = null;
          entry.spread = false;
          entry.misses++;
          if (entry.missingSince == null) {
            entry.missingSince = now;
          }
          Instant until = entry.missingSince.plus(settings.emptyGrace());
          if (before.isEmpty() || !now.isBefore(until)) {
            entry.backends = List.of();
            entry.warning = Optional.of(name + " has no address in DNS (" + answer.error() + ")");
            next = backoff(entry.misses);
          } else {
            entry.warning =
                Optional.of(
                    name
                        + " stopped resolving ("
                        + answer.error()
                        + ") at "
                        + seconds(entry.missingSince)
                        + "; keeping its last "
                        + before.size()
                        + " address(es) until "
                        + seconds(until)
                        + " (DNS_NXDOMAIN_GRACE)");
            next = min(backoff(entry.misses), Duration.between(now, until));
          }
        }
        default -> {
          failures.increment();
          if (answer.kind() == Answer.Kind.TIMED_OUT) {
            timeouts.increment();
          }
          entry.spread = false;
          entry.misses++;
          if (entry.failingSince == null) {
            entry.failingSince = now;
            entry.firstError = answer.error();
          }
          entry.warning =
              Optional.of(
                  "DNS lookups of "
                      + name
                      + " failing since "
                      + seconds(entry.failingSince)
                      + " ("
                      + entry.firstError
                      + "); "
                      + (before.isEmpty()
                          ? "no address known yet"
                          : "keeping the last " + before.size() + " known address(es)"));
          next = backoff(entry.misses);
        }
      }
      entry.answered |= answer.kind() != Answer.Kind.TIMED_OUT;
      answered = entry.answered;
      // A first answer is news only to a resolve that returned the name as pending; the resolve
      // that waited for it reads it itself (10,000 first answers at start are not 10,000 signals).
      changed = wasAnswered && !before.equals(entry.backends);
      signal = changed || (!wasAnswered && entry.answered && entry.toldPending);
      try {
        entry.refresh =
            refresher.schedule(
                () -> submit(q, entry, false), Math.max(1, next.toMillis()), TimeUnit.MILLISECONDS);
      } catch (RejectedExecutionException closing) {
        return;
      }
      if (entry.failingSince != null) {
        report.failed(q, name, entry.failingSince, entry.firstError, entry.backends.size());
      } else {
        report.settled(q);
      }
    }
    if (answered) {
      entry.firstAnswer.complete(null);
    }
    if (signal) {
      answersChanged.add(q);
      String reason =
          changed
              ? "dns: addresses of " + q.service() + " changed"
              : "dns: first answer for " + q.service();
      if (changed) {
        LOG.info("{}: {}", reason, answer.kind() == Answer.Kind.FOUND ? answer.backends() : "none");
      }
      listeners.forEach(l -> l.changed(reason));
    }
  }

  /**
   * When to look a found name up again: a name not yet spread at a random point between the floor
   * and its TTL, so that names answered together part; a spread one near the end of its TTL.
   */
  private Duration spread(Duration ttl, boolean alreadySpread) {
    double share =
        alreadySpread
            ? 1 - JITTER * ThreadLocalRandom.current().nextDouble()
            : ThreadLocalRandom.current().nextDouble();
    Duration floor = settings.ttlFloor();
    if (ttl.compareTo(floor) <= 0) {
      // A TTL at or under the floor (Consul's DNS answers with 0) is refreshed every floor, a
      // little later each time, so that these names part too: first at 1-2 floors, then at
      // 1-1.1 floors.
      double over = ThreadLocalRandom.current().nextDouble() * (alreadySpread ? JITTER : 1);
      return Duration.ofMillis(Math.round(floor.toMillis() * (1 + over)));
    }
    long span = ttl.toMillis() - (alreadySpread ? 0 : floor.toMillis());
    long at =
        alreadySpread ? Math.round(span * share) : floor.toMillis() + Math.round(span * share);
    return Duration.ofMillis(Math.max(floor.toMillis(), at));
  }

  /** The floor doubled for each miss in a row, up to 30 s, at 50-100 % so that names part. */
  private Duration backoff(int misses) {
    Duration cap = min(MAX_BACKOFF, settings.ttlCeiling());
    Duration d = settings.ttlFloor();
    for (int i = 1; i < misses && d.compareTo(cap) < 0; i++) {
      d = d.multipliedBy(2);
    }
    d = min(d, cap);
    long ms = Math.round(d.toMillis() * (0.5 + 0.5 * ThreadLocalRandom.current().nextDouble()));
    return Duration.ofMillis(Math.max(settings.ttlFloor().toMillis(), ms));
  }

  private static String seconds(Instant at) {
    return at.truncatedTo(ChronoUnit.SECONDS).toString();
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

  /** A and AAAA together (or the one the settings ask for): found if either has records. */
  private CompletableFuture<Answer> addresses(Name name, Port port) {
    DnsSettings.Records records = settings.records();
    if (!records.aaaa()) {
      return typed(name, Type.A, port);
    }
    if (!records.a()) {
      return typed(name, Type.AAAA, port);
    }
    CompletableFuture<Answer> a = typed(name, Type.A, port);
    CompletableFuture<Answer> aaaa = typed(name, Type.AAAA, port);
    return a.thenCombine(aaaa, DnsBackendResolver::merge);
  }

  private CompletableFuture<Answer> typed(Name name, int type, Port port) {
    queries.increment();
    return session
        .lookupAsync(name, type)
        .toCompletableFuture()
        .thenApply(result -> found(result, port))
        .exceptionally(DnsBackendResolver::failure);
  }

  private CompletableFuture<Answer> lookupSrv(Name name) {
    queries.increment();
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
    // sorted: a server that rotates its records' order has not changed the answer
    return new Answer(
        Answer.Kind.FOUND,
        backends.stream().distinct().sorted().toList(),
        Duration.ofSeconds(ttl),
        "");
  }

  private static Answer failure(Throwable e) {
    Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
    if (cause instanceof NoSuchDomainException) {
      return new Answer(Answer.Kind.NOT_FOUND, List.of(), Duration.ZERO, "NXDOMAIN");
    }
    if (cause instanceof NoSuchRRSetException) {
      return new Answer(Answer.Kind.NOT_FOUND, List.of(), Duration.ZERO, "no records");
    }
    return new Answer(
        timedOut(cause) ? Answer.Kind.TIMED_OUT : Answer.Kind.FAILED,
        List.of(),
        Duration.ZERO,
        describe(cause));
  }

  /** dnsjava reports a query nobody answered as an IOException "Timed out ...". */
  private static boolean timedOut(Throwable e) {
    return e instanceof java.net.SocketTimeoutException
        || e instanceof TimeoutException
        || (e instanceof java.io.IOException
            && e.getMessage() != null
            && e.getMessage().toLowerCase(java.util.Locale.ROOT).contains("timed out"));
  }

  /**
   * Found beats anything, and addresses add up with the shorter TTL; two not-founds are not found,
   * two timeouts unanswered; any other pair is a failure.
   */
  private static Answer merge(Answer x, Answer y) {
    if (x.kind() == Answer.Kind.FOUND && y.kind() == Answer.Kind.FOUND) {
      List<Backend> all = new ArrayList<>(x.backends());
      all.addAll(y.backends());
      return new Answer(
          Answer.Kind.FOUND, all.stream().distinct().sorted().toList(), min(x.ttl(), y.ttl()), "");
    }
    if (x.kind() == Answer.Kind.FOUND) {
      return x;
    }
    if (y.kind() == Answer.Kind.FOUND) {
      return y;
    }
    if (x.kind() == Answer.Kind.NOT_FOUND && y.kind() == Answer.Kind.NOT_FOUND) {
      return x;
    }
    if (x.kind() == Answer.Kind.TIMED_OUT && y.kind() == Answer.Kind.TIMED_OUT) {
      return x; // nothing answered at all
    }
    // One record type answered and the other failed or went unanswered: the server did answer
    // (so the name counts as answered, even where a server drops AAAA queries), but the answer is
    // unsure, so the addresses are kept rather than let go after the NXDOMAIN grace.
    Answer bad = x.kind() == Answer.Kind.NOT_FOUND ? y : x;
    return new Answer(Answer.Kind.FAILED, List.of(), Duration.ZERO, bad.error());
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
