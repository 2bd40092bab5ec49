package io.haproxyconfd.app;

import io.haproxyconfd.domain.HttpService;
import io.haproxyconfd.domain.Problem;
import io.haproxyconfd.domain.ProxyConfig;
import io.haproxyconfd.domain.TcpService;
import io.haproxyconfd.ports.ApplyResult;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Supplier;

/** What the daemon did, for /readyz, /metrics, /status and the status page. Thread-safe. */
final class Status {
  /** How many applies the status page lists. */
  static final int HISTORY = 20;

  /** One apply, for the status page: when, which revision, how, and how long from the change. */
  record Apply(Instant at, long revision, String outcome, String detail, long millis) {}

  /** The store as the daemon last met it. */
  record Store(boolean reachable, String error, Instant watchingSince, long watchedFrom) {}

  /** Everything the status page shows but HAProxy's own view, taken at one moment. */
  record View(
      boolean ready,
      ProxyConfig config,
      List<Problem> problems,
      List<String> warnings,
      List<Apply> applies,
      Store store,
      String lastError) {}

  // Every field is guarded by this object's lock.
  private final Map<ApplyResult.Outcome, Long> applies = new EnumMap<>(ApplyResult.Outcome.class);
  private long failures;
  private long rejectedServices;
  private long onLastGood;
  private long signals;
  private long reconnects;
  private double latencySumSeconds;
  private long latencyCount;
  private Instant pendingSince;
  private Instant lastApplied;
  private String lastError = "";
  private ProxyConfig config = ProxyConfig.EMPTY;
  private ApplyResult lastResult;
  private int waiting;
  private Supplier<Map<String, Long>> resolverCounters = Map::of;
  private List<Problem> problemList = List.of();
  private List<String> warnings = List.of();
  private final java.util.ArrayDeque<Apply> history = new java.util.ArrayDeque<>();
  private Store store = new Store(true, "", null, 0);

  synchronized void signalled(Instant at) {
    signals++;
    if (pendingSince == null) {
      pendingSince = at;
    }
  }

  synchronized void applied(
      Instant at,
      ProxyConfig applied,
      List<Problem> parseProblems,
      List<String> warnings,
      ApplyResult result,
      Duration took,
      int waitingForResolver) {
    waiting = waitingForResolver;
    applies.merge(result.outcome(), 1L, Long::sum);
    if (result.outcome() != ApplyResult.Outcome.REJECTED) {
      lastApplied = at;
      config = applied;
    }
    if (pendingSince != null && result.outcome() != ApplyResult.Outcome.UNCHANGED) {
      latencySumSeconds += Duration.between(pendingSince, at).toNanos() / 1e9;
      latencyCount++;
    }
    pendingSince = null;
    List<Problem> both = new ArrayList<>(parseProblems);
    both.addAll(result.problems());
    problemList = List.copyOf(both);
    this.warnings = List.copyOf(warnings);
    if (result.outcome() != ApplyResult.Outcome.UNCHANGED || history.isEmpty()) {
      history.addFirst(
          new Apply(
              at,
              result.revision(),
              result.outcome().name().toLowerCase(java.util.Locale.ROOT).replace('_', ' '),
              result.detail(),
              took.toMillis()));
      while (history.size() > HISTORY) {
        history.removeLast();
      }
    }
    rejectedServices = services(both, Problem.Effect.SERVICE_LEFT_OUT);
    onLastGood = services(both, Problem.Effect.LAST_GOOD_KEPT);
    lastResult = result;
    lastError = "";
  }

  /** How many services ({@code services/web}, from each problem's key) have this effect. */
  private static long services(List<Problem> problems, Problem.Effect effect) {
    return problems.stream()
        .filter(p -> p.effect() == effect)
        .map(p -> p.key().replaceFirst("^([^/]*/[^/]*).*$", "$1"))
        .distinct()
        .count();
  }

  /** A read of the store succeeded after reads had failed. */
  synchronized void reconnected() {
    reconnects++;
    store = new Store(true, "", store.watchingSince(), store.watchedFrom());
  }

  /** The store could not be read; the last good config keeps serving. */
  synchronized void storeFailed(Instant at, String error) {
    failed(at, error);
    store = new Store(false, String.valueOf(error), store.watchingSince(), store.watchedFrom());
  }

  /** Changes are watched from this revision on. */
  synchronized void watching(Instant since, long fromRevision) {
    store = new Store(store.reachable(), store.error(), since, fromRevision);
  }

  synchronized View view() {
    return new View(ready(), config, problemList, warnings, List.copyOf(history), store, lastError);
  }

  synchronized void failed(Instant at, String error) {
    failures++;
    lastError = String.valueOf(error);
  }

  /** Where /metrics finds the resolver's counters ({@code dns_lookups_total}, ...). */
  synchronized void resolverCounters(Supplier<Map<String, Long>> counters) {
    resolverCounters = counters;
  }

  /**
   * Ready once a config from the store has been applied with every service's first answer from the
   * resolver in it: a proxy that serves half its services while DNS still answers is not ready.
   */
  synchronized boolean ready() {
    return lastApplied != null && waiting == 0;
  }

  synchronized String prometheus() {
    StringBuilder out = new StringBuilder();
    out.append("# HELP haproxy_confd_applies_total Configs applied, by how.\n");
    out.append("# TYPE haproxy_confd_applies_total counter\n");
    for (ApplyResult.Outcome o : ApplyResult.Outcome.values()) {
      out.append("haproxy_confd_applies_total{outcome=\"")
          .append(o.name().toLowerCase(java.util.Locale.ROOT))
          .append("\"} ")
          .append(applies.getOrDefault(o, 0L))
          .append('\n');
    }
    gauge(
        out,
        "haproxy_confd_apply_failures_total",
        "counter",
        "Passes that failed to read or apply.",
        failures);
    gauge(
        out,
        "haproxy_confd_rejected_services",
        "gauge",
        "Services left out of the applied config.",
        rejectedServices);
    gauge(
        out,
        "haproxy_confd_services_on_last_good_version",
        "gauge",
        "Services whose keys are bad now, serving their last good version.",
        onLastGood);
    gauge(
        out,
        "haproxy_confd_store_reconnects_total",
        "counter",
        "Reads of the store that succeeded after reads had failed.",
        reconnects);
    gauge(
        out,
        "haproxy_confd_change_signals_total",
        "counter",
        "Change signals from the store and resolvers.",
        signals);
    gauge(
        out,
        "haproxy_confd_services",
        "gauge",
        "Services in the applied config.",
        config.http().size() + config.tcp().size());
    out.append(
        "# HELP haproxy_confd_change_to_apply_seconds From the first change signal to the apply.\n");
    out.append("# TYPE haproxy_confd_change_to_apply_seconds summary\n");
    out.append("haproxy_confd_change_to_apply_seconds_sum ").append(latencySumSeconds).append('\n');
    out.append("haproxy_confd_change_to_apply_seconds_count ").append(latencyCount).append('\n');
    gauge(
        out,
        "haproxy_confd_services_waiting_for_resolver",
        "gauge",
        "Services whose backends the resolver has not answered yet.",
        waiting);
    gauge(
        out,
        "haproxy_confd_ready",
        "gauge",
        "1 once a config from the store is applied and no service waits for the resolver.",
        ready() ? 1 : 0);
    // The resolver answers from its own counters and takes no lock of this class.
    new TreeMap<>(resolverCounters.get())
        .forEach(
            (name, value) ->
                gauge(
                    out,
                    "haproxy_confd_" + name,
                    name.endsWith("_total") ? "counter" : "gauge",
                    "From the backend resolver.",
                    value));
    return out.toString();
  }

  private static void gauge(StringBuilder out, String name, String type, String help, long value) {
    out.append("# HELP ").append(name).append(' ').append(help).append('\n');
    out.append("# TYPE ").append(name).append(' ').append(type).append('\n');
    out.append(name).append(' ').append(value).append('\n');
  }

  /** A plain structure for /status, serialised as JSON by the admin server. */
  synchronized Map<String, Object> snapshot() {
    Map<String, Object> s = new LinkedHashMap<>();
    s.put("ready", ready());
    s.put("revision", config.revision());
    s.put("lastApplied", lastApplied == null ? null : lastApplied.toString());
    s.put("lastOutcome", lastResult == null ? null : lastResult.outcome().name());
    s.put("lastDetail", lastResult == null ? null : lastResult.detail());
    s.put("lastError", lastError);
    s.put("waitingForResolver", waiting);
    List<Map<String, Object>> http = new ArrayList<>();
    for (HttpService svc : config.http()) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("name", svc.name().value());
      m.put("hosts", svc.hosts().stream().map(h -> h.value()).toList());
      m.put("paths", svc.paths().stream().map(p -> p.value()).toList());
      m.put("backends", svc.backends().stream().map(Object::toString).toList());
      m.put("tls", svc.policy().certificate().isPresent());
      http.add(m);
    }
    List<Map<String, Object>> tcp = new ArrayList<>();
    for (TcpService svc : config.tcp()) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("name", svc.name().value());
      m.put("port", svc.externalPort().value());
      m.put("backends", svc.backends().stream().map(Object::toString).toList());
      tcp.add(m);
    }
    s.put("http", http);
    s.put("tcp", tcp);
    // One line each, as the log has them: the problems, then the resolver's warnings.
    List<String> lines = new ArrayList<>();
    problemList.forEach(p -> lines.add(p.toString()));
    lines.addAll(warnings);
    s.put("problems", lines);
    return s;
  }
}
