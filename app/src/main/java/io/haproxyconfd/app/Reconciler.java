package io.haproxyconfd.app;

import io.haproxyconfd.domain.ConfigChange;
import io.haproxyconfd.domain.ConfigParser;
import io.haproxyconfd.domain.KeyChanges;
import io.haproxyconfd.domain.KeySnapshot;
import io.haproxyconfd.domain.LastGood;
import io.haproxyconfd.domain.ParseOptions;
import io.haproxyconfd.domain.ParseResult;
import io.haproxyconfd.domain.Problem;
import io.haproxyconfd.domain.ProxyConfig;
import io.haproxyconfd.domain.ProxyId;
import io.haproxyconfd.domain.ServiceName;
import io.haproxyconfd.ports.ApplyResult;
import io.haproxyconfd.ports.BackendQuery;
import io.haproxyconfd.ports.BackendResolver;
import io.haproxyconfd.ports.Backoff;
import io.haproxyconfd.ports.DaemonThreads;
import io.haproxyconfd.ports.KeyValueSource;
import io.haproxyconfd.ports.ProxyConfigurator;
import io.haproxyconfd.ports.ProxyException;
import io.haproxyconfd.ports.StoreException;
import io.haproxyconfd.ports.Subscription;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.IntConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The reconcile loop. A signal (a key changed, a DNS answer changed) only marks the state dirty;
 * after a quiet period with no further signal (but never later than the maximum delay after the
 * first), the loop reads the keys, parses them, resolves backends and hands the result to the
 * configurator, which applies only the difference. A failure is retried with back-off while the
 * last good config keeps serving.
 *
 * <p>The quiet period exists so that a service written key by key is reloaded once, complete. A
 * change that moves only backends or routes needs no reload and has no half-written state to wait
 * out, so the first signal after a quiet spell is read at once: if all it changed is backends or
 * routes, it is applied without waiting; otherwise (a new service, a new setting) what was read is
 * kept for the pass after the quiet period.
 *
 * <p>Each pass costs what changed: the keys the store's watch saw change, the services they belong
 * to, and the backends of the services whose parse changed. A periodic full pass reads, parses and
 * resolves everything, and covers any event that was ever missed.
 *
 * <p>Threading: {@link #changed} may be called from any thread and never blocks; all work happens
 * on the loop's own thread.
 */
final class Reconciler implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Reconciler.class);

  /**
   * A failed read of the store is retried at least this often: a read is cheap, and the store's
   * return should be noticed within seconds. Failed applies back off further, to 30 s.
   */
  private static final Backoff STORE_BACKOFF =
      new Backoff(Duration.ofMillis(200), Duration.ofSeconds(1));

  private static final Backoff APPLY_BACKOFF =
      new Backoff(Duration.ofMillis(200), Duration.ofSeconds(30));

  /** While the store stays unreachable, the warning is repeated this often, not at every retry. */
  private static final Duration STORE_WARNING_EVERY = Duration.ofSeconds(30);

  /**
   * How the loop paces itself.
   *
   * @param incremental whether a pass may read, parse and resolve only what changed; when false,
   *     every pass is a full one (for diagnosis, and as the reference the incremental passes are
   *     tested against)
   */
  record Timing(Duration quietPeriod, Duration maxDelay, Duration resync, boolean incremental) {
    static final Timing DEFAULT =
        new Timing(Duration.ofMillis(50), Duration.ofMillis(500), Duration.ofMinutes(5), true);
  }

  private final ProxyId proxy;
  private final KeyValueSource source;
  private final BackendResolver resolver;
  private final ProxyConfigurator configurator;
  private final Function<Instant, ParseOptions> options;
  private final Timing timing;
  private final Clock clock;
  private final Status status;
  private final LastGoodFile lastGoodFile;
  private final Thread thread;

  private final Object lock = new Object();

  // Guarded by lock: the signals from watches and timers, up to readAtOnce.
  private Instant firstSignal;
  private Instant lastSignal;
  private String lastReason = "start";
  private boolean closed;

  /** Counts signals, so that a pass knows whether any came after it started reading. */
  private long signals;

  /**
   * Counts the signals that may mean the keys changed: all but the resolver's. While it stands
   * still, a pass uses the keys it read last instead of reading them all again.
   */
  private long keySignals;

  /** Counts the resolver's signals: while it stands still, only changed services are resolved. */
  private long resolverSignals;

  /** Whether the next read is a full one: every key read, parsed from nothing and resolved. */
  private boolean fullReadDue = true;

  /** Whether the current batch of signals has had its at-once read. */
  private boolean readAtOnce;

  // Owned by the loop thread.
  private Instant lastPassEnded = Instant.EPOCH;
  private ProxyConfig lastHanded;
  private Prepared prepared;
  private ParseResult lastParsed;
  private LastGood lastParsedWith;
  private long keySignalsAtLastRead = -1;
  private long resolverSignalsAtLastRead = -1;

  /** Each service's parse, so that a pass parses only the services whose keys changed. */
  private ConfigParser.Memo memo = new ConfigParser.Memo();

  /** Each service's backends, so that a pass resolves only the services that changed. */
  private final BackendAssignment.Memo assignment = new BackendAssignment.Memo();

  /** Each service's last good keys, as of the last apply; what a bad key falls back to. */
  private LastGood lastGood;

  /** Keys read before the loop started, for its first pass; then null. */
  private KeySnapshot firstRead;

  private Subscription watch;
  private Subscription resolverWatch;
  private Set<String> lastProblems = Set.of();
  private Set<String> lastWarnings = Set.of();
  private boolean storeLost;
  private Instant lastStoreWarning = Instant.EPOCH;

  Reconciler(
      ProxyId proxy,
      KeyValueSource source,
      BackendResolver resolver,
      ProxyConfigurator configurator,
      Function<Instant, ParseOptions> options,
      Timing timing,
      Clock clock,
      Status status,
      LastGoodFile lastGoodFile) {
    this.proxy = proxy;
    this.source = source;
    this.resolver = resolver;
    this.configurator = configurator;
    this.options = options;
    this.timing = timing;
    this.clock = clock;
    this.status = status;
    this.lastGoodFile = lastGoodFile;
    this.lastGood = lastGoodFile.load();
    this.thread = DaemonThreads.create("reconcile", this::loop);
  }

  /** Starts the loop; the first pass runs at once. */
  void start() {
    start(null);
  }

  /**
   * Starts the loop; the first pass runs at once, on {@code firstRead} when given (keys just read
   * from the source, which the watch then starts from) rather than reading them again.
   */
  void start(KeySnapshot firstRead) {
    this.firstRead = firstRead;
    resolverWatch = resolver.onChange(this::resolverChanged);
    changed("start");
    thread.start();
  }

  /** Marks the state dirty: the keys may have changed. Never blocks. */
  void changed(String reason) {
    synchronized (lock) {
      keySignals++;
    }
    backendsChanged(reason);
  }

  /** Marks the state dirty: the resolver's answers may have changed, the keys did not. */
  private void resolverChanged(String reason) {
    synchronized (lock) {
      resolverSignals++;
    }
    backendsChanged(reason);
  }

  private void backendsChanged(String reason) {
    synchronized (lock) {
      Instant now = clock.instant();
      if (firstSignal == null) {
        firstSignal = now;
      }
      lastSignal = now;
      lastReason = reason;
      signals++;
      status.signalled(now);
      lock.notifyAll();
    }
  }

  /**
   * What the loop is to do: a pass for a batch of signals, the first {@code signalsSeen} of all.
   */
  private record Work(String reason, boolean atOnce, long signalsSeen) {}

  /** A read that found a structural change, kept until the quiet period is over. */
  private record Prepared(
      long signalsSeen,
      Instant started,
      long revision,
      ParseResult parsed,
      BackendAssignment.Result resolved,
      Steps took) {}

  /** How long each step of a read took: the keys, their parse, the backends. */
  private record Steps(Duration keys, Duration parse, Duration backends) {
    Duration total() {
      return keys.plus(parse).plus(backends);
    }

    @Override
    public String toString() {
      return "keys "
          + keys.toMillis()
          + ", parse "
          + parse.toMillis()
          + ", backends "
          + backends.toMillis();
    }
  }

  private void loop() {
    Duration backoff = Duration.ZERO;
    while (true) {
      Work work;
      try {
        work = awaitWork(backoff);
      } catch (InterruptedException e) {
        return;
      }
      if (work == null) {
        return;
      }
      try {
        pass(work);
        backoff = Duration.ZERO;
      } catch (StoreException e) {
        backoff = STORE_BACKOFF.after(backoff);
        Instant now = clock.instant();
        status.storeFailed(now, e.getMessage());
        if (!storeLost || !now.isBefore(lastStoreWarning.plus(STORE_WARNING_EVERY))) {
          LOG.warn(
              "cannot read the keys or their backends ({}); the last good config keeps serving;"
                  + " retrying every {}"
                  + " ms",
              e.getMessage(),
              backoff.toMillis());
          lastStoreWarning = now;
        }
        storeLost = true;
        changed("retry after a store error");
      } catch (ProxyException | RuntimeException e) {
        backoff = APPLY_BACKOFF.after(backoff);
        status.failed(clock.instant(), String.valueOf(e.getMessage()));
        LOG.error(
            "cannot apply the config ({}); the last good config keeps serving; retrying in {} ms",
            e.getMessage(),
            backoff.toMillis());
        changed("retry after an apply error");
      }
    }
  }

  /**
   * Waits for a signal and its quiet period (or the resync interval); null when closed. The first
   * signal after a quiet spell is handed over at once, for a pass that applies it only if it moves
   * nothing but backends.
   */
  private Work awaitWork(Duration backoff) throws InterruptedException {
    synchronized (lock) {
      Instant notBefore = clock.instant().plus(backoff);
      while (true) {
        if (closed) {
          return null;
        }
        Instant now = clock.instant();
        if (firstSignal == null) {
          long waitMs = timing.resync().toMillis();
          lock.wait(waitMs);
          if (firstSignal == null && !closed) {
            fullReadDue = true;
            changed("periodic resync");
          }
          continue;
        }
        if (!readAtOnce
            && backoff.isZero()
            && lastHanded != null
            && !firstSignal.isBefore(lastPassEnded.plus(timing.quietPeriod()))) {
          readAtOnce = true;
          return new Work(lastReason, true, signals);
        }
        Instant due =
            min(lastSignal.plus(timing.quietPeriod()), firstSignal.plus(timing.maxDelay()));
        if (due.isBefore(notBefore)) {
          due = notBefore;
        }
        if (!now.isBefore(due)) {
          firstSignal = null;
          lastSignal = null;
          readAtOnce = false;
          return new Work(lastReason, false, signals);
        }
        lock.wait(Math.max(1, Duration.between(now, due).toMillis()));
      }
    }
  }

  private static Instant min(Instant a, Instant b) {
    return a.isBefore(b) ? a : b;
  }

  /**
   * One full pass: read, parse, resolve, apply. An at-once pass stops before applying a structural
   * change and keeps what it read; the pass after the quiet period uses that read if no signal has
   * come since it started.
   */
  private void pass(Work work) throws StoreException, ProxyException {
    Prepared p = prepared;
    prepared = null;
    if (p == null || p.signalsSeen() != work.signalsSeen()) {
      p = read(work.signalsSeen());
    }
    if (work.atOnce()) {
      ConfigChange change = ConfigChange.between(lastHanded, p.resolved().config());
      if (change.kind() == ConfigChange.Kind.STRUCTURAL
          || change.kind() == ConfigChange.Kind.SERVICES_ADDED) {
        prepared = p;
        return;
      }
      endBatchIfNoSignalSince(work.signalsSeen());
    }
    Instant applyStarted = clock.instant();
    ApplyResult result = configurator.apply(p.resolved().config());
    lastHanded = p.resolved().config();
    lastPassEnded = clock.instant();
    if (result.outcome() != ApplyResult.Outcome.REJECTED
        && !p.parsed().lastGood().equals(lastGood)) {
      lastGood = p.parsed().lastGood();
      lastGoodFile.save(lastGood);
    }
    Duration took = Duration.between(p.started(), lastPassEnded);
    status.applied(
        lastPassEnded,
        p.resolved().config(),
        p.parsed().problems(),
        p.resolved().warnings(),
        result,
        took,
        p.resolved().waiting());
    report(p.parsed().problems(), p.resolved().warnings(), result);
    if (result.outcome() != ApplyResult.Outcome.UNCHANGED) {
      LOG.info(
          "revision {}: {} ({}) in {} ms (read {} ms: {}; apply {} ms) after {}",
          p.revision(),
          result.outcome().name().toLowerCase(java.util.Locale.ROOT).replace('_', ' '),
          result.detail(),
          took.toMillis(),
          p.took().total().toMillis(),
          p.took(),
          Duration.between(applyStarted, lastPassEnded).toMillis(),
          work.reason());
    }
  }

  /**
   * Reads the keys, parses them and resolves their backends, each step in proportion to what
   * changed: the keys the store's watch saw change since the last read (all of them on a full
   * read), the services whose keys changed, the services whose parse changed and those whose
   * answers the resolver says changed (all of them after a signal from a resolver that cannot say).
   */
  private Prepared read(long signalsSeen) throws StoreException {
    Instant started = clock.instant();
    long keysNow;
    long resolverNow;
    synchronized (lock) {
      keysNow = keySignals;
      resolverNow = resolverSignals;
    }
    boolean full = fullReadDue || storeLost || lastParsed == null || !timing.incremental();
    fullReadDue = true; // until this read is through: a read that fails leaves a full one
    // Only backends moved since the last read: its keys are still the keys (any key signal since
    // bumps the count, and the read it asks for sees the change).
    boolean sameKeys = !full && keysNow == keySignalsAtLastRead;
    Optional<KeyChanges> changes =
        full
            ? Optional.empty()
            : sameKeys
                ? Optional.of(new KeyChanges(memo.revision(), memo.revision(), new TreeMap<>()))
                : source.changesSince(proxy, memo.revision());
    KeySnapshot snapshot =
        changes.isPresent() ? null : firstRead != null ? firstRead : source.read(proxy);
    firstRead = null;
    if (full) {
      // A full pass parses from nothing: it owes nothing to what the memo kept, and so it is the
      // reference the incremental passes are held to.
      memo = new ConfigParser.Memo();
    }
    Instant keysRead = clock.instant();
    keySignalsAtLastRead = keysNow;
    if (storeLost) {
      storeLost = false;
      status.reconnected();
      LOG.info("the key-value store answers again");
    }
    ParseResult parsed;
    if (sameKeys && lastParsedWith == lastGood) {
      parsed = lastParsed; // the same keys against the same last good versions parse the same
    } else {
      try {
        parsed =
            changes.isPresent()
                ? memo.parse(changes.get(), options.apply(started), lastGood)
                : memo.parse(snapshot, options.apply(started), lastGood);
      } catch (RuntimeException e) {
        memo = new ConfigParser.Memo(); // what it kept may be half-made: parse anew
        throw e;
      }
    }
    ensureWatching(parsed.config().revision());
    lastParsed = parsed;
    lastParsedWith = lastGood;
    Instant parsedAt = clock.instant();
    // Taken at every read, so that a change a full pass covers is not asked about again later.
    Optional<Set<BackendQuery>> answersChanged = resolver.takeChanges();
    boolean resolveAll =
        full || (resolverNow != resolverSignalsAtLastRead && answersChanged.isEmpty());
    Set<ServiceName> askAgain = new HashSet<>();
    answersChanged.ifPresent(qs -> qs.forEach(q -> askAgain.add(q.service())));
    BackendAssignment.Result resolved =
        assignment.assign(parsed.config(), resolver, resolveAll, askAgain);
    resolverSignalsAtLastRead = resolverNow;
    fullReadDue = false;
    Steps took =
        new Steps(
            Duration.between(started, keysRead),
            Duration.between(keysRead, parsedAt),
            Duration.between(parsedAt, clock.instant()));
    return new Prepared(signalsSeen, started, parsed.config().revision(), parsed, resolved, took);
  }

  /** After an at-once pass: the batch is done unless more signals came while it was read. */
  private void endBatchIfNoSignalSince(long signalsSeen) {
    synchronized (lock) {
      if (signals == signalsSeen) {
        firstSignal = null;
        lastSignal = null;
        readAtOnce = false;
      }
    }
  }

  /** Watches from the first snapshot on; the adapter keeps the watch alive after that. */
  private void ensureWatching(long revision) {
    if (watch == null) {
      watch = source.watch(proxy, revision, this::changed);
      status.watching(clock.instant(), revision);
      LOG.info("watching the keys of {} from revision {}", proxy, revision);
    }
  }

  /** How many new resolver warnings one pass logs line by line; /status lists them all. */
  static final int REPORT_LINES = 20;

  /**
   * Logs problems and warnings when they change, one line each, so that a steady state is quiet.
   * Every problem with the keys or the apply is named (a user's mistake must be findable in the
   * log); the resolver's warnings, which a DNS outage can raise for every service at once, come a
   * screenful at a time and a count.
   */
  private void report(List<Problem> problems, List<String> warnings, ApplyResult result) {
    Set<String> now = new LinkedHashSet<>();
    problems.forEach(p -> now.add(p.toString()));
    result.problems().forEach(p -> now.add(p.toString()));
    lastProblems = logChanges(now, lastProblems, Integer.MAX_VALUE);
    lastWarnings = logChanges(new LinkedHashSet<>(warnings), lastWarnings, REPORT_LINES);
  }

  private static Set<String> logChanges(Set<String> now, Set<String> before, int limit) {
    if (!now.equals(before)) {
      logAtMost(
          now,
          before,
          limit,
          l -> LOG.warn("{}", l),
          n -> LOG.warn("and {} more problem(s) (see /status)", n));
      logAtMost(
          before,
          now,
          limit,
          l -> LOG.info("no longer a problem: {}", l),
          n -> LOG.info("and {} more no longer a problem", n));
    }
    return now;
  }

  /**
   * Logs the lines of {@code now} not in {@code before}, at most {@code limit} of them and then one
   * line that counts the rest: when DNS fails for 10,000 services at once, the log says so in a
   * screenful and /status has the full list.
   */
  static void logAtMost(
      Set<String> now, Set<String> before, int limit, Consumer<String> log, IntConsumer rest) {
    int shown = 0;
    int more = 0;
    for (String line : now) {
      if (before.contains(line)) {
        continue;
      }
      if (shown < limit) {
        log.accept(line);
        shown++;
      } else {
        more++;
      }
    }
    if (more > 0) {
      rest.accept(more);
    }
  }

  @Override
  public void close() {
    synchronized (lock) {
      closed = true;
      lock.notifyAll();
    }
    try {
      thread.join(10_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (watch != null) {
      watch.close();
    }
    if (resolverWatch != null) {
      resolverWatch.close();
    }
    lastGoodFile.close();
  }
}
