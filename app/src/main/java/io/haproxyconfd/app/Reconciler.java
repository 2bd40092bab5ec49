package io.haproxyconfd.app;

import io.haproxyconfd.domain.ConfigParser;
import io.haproxyconfd.domain.KeySnapshot;
import io.haproxyconfd.domain.ParseOptions;
import io.haproxyconfd.domain.ParseResult;
import io.haproxyconfd.domain.Problem;
import io.haproxyconfd.domain.ProxyId;
import io.haproxyconfd.ports.ApplyResult;
import io.haproxyconfd.ports.BackendResolver;
import io.haproxyconfd.ports.KeyValueSource;
import io.haproxyconfd.ports.ProxyConfigurator;
import io.haproxyconfd.ports.ProxyException;
import io.haproxyconfd.ports.StoreException;
import io.haproxyconfd.ports.Subscription;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The reconcile loop. A signal (a key changed, a DNS answer changed) only marks the state dirty;
 * after a quiet period with no further signal (but never later than the maximum delay after the
 * first), the loop reads the whole prefix, parses it, resolves backends and hands the result to the
 * configurator, which applies only the difference. A failure is retried with back-off while the
 * last good config keeps serving. A periodic full pass covers any event that was ever missed.
 *
 * <p>Threading: {@link #changed} may be called from any thread and never blocks; all work happens
 * on the loop's own thread.
 */
final class Reconciler implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Reconciler.class);
  private static final Duration MAX_BACKOFF = Duration.ofSeconds(30);

  /** How the loop paces itself. */
  record Timing(Duration quietPeriod, Duration maxDelay, Duration resync) {
    static final Timing DEFAULT =
        new Timing(Duration.ofMillis(50), Duration.ofMillis(500), Duration.ofMinutes(5));
  }

  private final ProxyId proxy;
  private final KeyValueSource source;
  private final BackendResolver resolver;
  private final ProxyConfigurator configurator;
  private final Function<Instant, ParseOptions> options;
  private final Timing timing;
  private final Clock clock;
  private final Status status;
  private final Thread thread;

  private final Object lock = new Object();
  private Instant firstSignal;
  private Instant lastSignal;
  private String lastReason = "start";
  private boolean closed;

  private Subscription watch;
  private Subscription resolverWatch;
  private List<String> lastReported = List.of();
  private boolean storeLost;

  Reconciler(
      ProxyId proxy,
      KeyValueSource source,
      BackendResolver resolver,
      ProxyConfigurator configurator,
      Function<Instant, ParseOptions> options,
      Timing timing,
      Clock clock,
      Status status) {
    this.proxy = proxy;
    this.source = source;
    this.resolver = resolver;
    this.configurator = configurator;
    this.options = options;
    this.timing = timing;
    this.clock = clock;
    this.status = status;
    this.thread = new Thread(this::loop, "reconcile");
    this.thread.setDaemon(true);
  }

  /** Starts the loop; the first pass runs at once. */
  void start() {
    resolverWatch = resolver.onChange(this::changed);
    changed("start");
    thread.start();
  }

  /** Marks the state dirty. Never blocks. */
  void changed(String reason) {
    synchronized (lock) {
      Instant now = clock.instant();
      if (firstSignal == null) {
        firstSignal = now;
      }
      lastSignal = now;
      lastReason = reason;
      status.signalled(now);
      lock.notifyAll();
    }
  }

  private void loop() {
    Duration backoff = Duration.ZERO;
    while (true) {
      String reason;
      try {
        reason = awaitWork(backoff);
      } catch (InterruptedException e) {
        return;
      }
      if (reason == null) {
        return;
      }
      try {
        pass(reason);
        backoff = Duration.ZERO;
      } catch (StoreException e) {
        storeLost = true;
        backoff = next(backoff);
        status.failed(clock.instant(), e.getMessage());
        LOG.warn(
            "cannot read the keys ({}); the last good config keeps serving; retrying in {} ms",
            e.getMessage(),
            backoff.toMillis());
        changed("retry after a store error");
      } catch (ProxyException | RuntimeException e) {
        backoff = next(backoff);
        status.failed(clock.instant(), String.valueOf(e.getMessage()));
        LOG.error(
            "cannot apply the config ({}); the last good config keeps serving; retrying in {} ms",
            e.getMessage(),
            backoff.toMillis());
        changed("retry after an apply error");
      }
    }
  }

  private static Duration next(Duration backoff) {
    Duration doubled = backoff.isZero() ? Duration.ofMillis(200) : backoff.multipliedBy(2);
    return doubled.compareTo(MAX_BACKOFF) > 0 ? MAX_BACKOFF : doubled;
  }

  /** Waits for a signal and its quiet period (or the resync interval); null when closed. */
  private String awaitWork(Duration backoff) throws InterruptedException {
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
            changed("periodic resync");
          }
          continue;
        }
        Instant due =
            min(lastSignal.plus(timing.quietPeriod()), firstSignal.plus(timing.maxDelay()));
        if (due.isBefore(notBefore)) {
          due = notBefore;
        }
        if (!now.isBefore(due)) {
          String reason = lastReason;
          firstSignal = null;
          lastSignal = null;
          return reason;
        }
        lock.wait(Math.max(1, Duration.between(now, due).toMillis()));
      }
    }
  }

  private static Instant min(Instant a, Instant b) {
    return a.isBefore(b) ? a : b;
  }

  /** One full pass: read, parse, resolve, apply. */
  private void pass(String reason) throws StoreException, ProxyException {
    Instant started = clock.instant();
    KeySnapshot snapshot = source.read(proxy);
    if (storeLost) {
      storeLost = false;
      status.reconnected();
      LOG.info("the key-value store answers again");
    }
    ensureWatching(snapshot.revision());
    ParseResult parsed = ConfigParser.parse(snapshot, options.apply(started));
    BackendAssignment.Result resolved = BackendAssignment.assign(parsed.config(), resolver);
    ApplyResult result = configurator.apply(resolved.config());
    Duration took = Duration.between(started, clock.instant());
    status.applied(
        clock.instant(), resolved.config(), parsed.problems(), resolved.warnings(), result, took);
    report(parsed.problems(), resolved.warnings(), result);
    if (result.outcome() != ApplyResult.Outcome.UNCHANGED) {
      LOG.info(
          "revision {}: {} ({}) in {} ms after {}",
          snapshot.revision(),
          result.outcome().name().toLowerCase(java.util.Locale.ROOT).replace('_', ' '),
          result.detail(),
          took.toMillis(),
          reason);
    }
  }

  /** Watches from the first snapshot on; the adapter keeps the watch alive after that. */
  private void ensureWatching(long revision) {
    if (watch == null) {
      watch = source.watch(proxy, revision, this::changed);
      LOG.info("watching the keys of {} from revision {}", proxy, revision);
    }
  }

  /** Logs problems when they change, one line each, so that a steady state is quiet. */
  private void report(List<Problem> problems, List<String> warnings, ApplyResult result) {
    List<String> lines = new java.util.ArrayList<>();
    problems.forEach(p -> lines.add(p.toString()));
    result.problems().forEach(p -> lines.add(p.toString()));
    lines.addAll(warnings);
    if (!Objects.equals(lines, lastReported)) {
      lines.stream().filter(l -> !lastReported.contains(l)).forEach(l -> LOG.warn("{}", l));
      lastReported = List.copyOf(lines);
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
  }
}
