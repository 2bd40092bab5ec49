package io.haproxyconfd.app;

import io.haproxyconfd.domain.HttpService;
import io.haproxyconfd.domain.KeyLayout;
import io.haproxyconfd.domain.ProxyConfig;
import io.haproxyconfd.domain.ServiceName;
import io.haproxyconfd.domain.TcpService;
import io.haproxyconfd.ports.BackendQuery;
import io.haproxyconfd.ports.BackendResolver;
import io.haproxyconfd.ports.Resolution;
import io.haproxyconfd.ports.StoreException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/** Asks the resolver for every service's backends and puts them into the config. */
final class BackendAssignment {
  private BackendAssignment() {}

  /**
   * The config with backends, the resolver's warnings ("services/web: DNS timed out; ..."), and how
   * many services still wait for the resolver's first answer (the daemon is not ready while any
   * do).
   */
  record Result(ProxyConfig config, List<String> warnings, int waiting) {}

  /** How many of {@code answers} wait for the resolver's first answer. */
  private static int waiting(Map<BackendQuery, Resolution> answers) {
    return (int) answers.values().stream().filter(Resolution::pending).count();
  }

  /**
   * @throws StoreException refused, when the resolver could not answer for a service because its
   *     source refused (an ACL): backends it does not know are never taken for no backends
   */
  static Result assign(ProxyConfig config, BackendResolver resolver) throws StoreException {
    List<BackendQuery> httpQueries = config.http().stream().map(BackendAssignment::query).toList();
    List<BackendQuery> tcpQueries = config.tcp().stream().map(BackendAssignment::query).toList();
    Set<BackendQuery> queries = new HashSet<>(httpQueries);
    queries.addAll(tcpQueries);
    Map<BackendQuery, Resolution> answers = resolver.resolve(queries);
    List<String> warnings = new ArrayList<>();
    List<String> refusals = new ArrayList<>();
    List<HttpService> http = new ArrayList<>();
    for (int i = 0; i < httpQueries.size(); i++) {
      HttpService s = config.http().get(i);
      Resolution r = answers.get(httpQueries.get(i));
      note(KeyLayout.http(s.name()), r, warnings, refusals);
      // The same backends keep the same service: nothing to copy, and quick to compare.
      http.add(r.backends().equals(s.backends()) ? s : s.withBackends(r.backends()));
    }
    List<TcpService> tcp = new ArrayList<>();
    for (int i = 0; i < tcpQueries.size(); i++) {
      TcpService s = config.tcp().get(i);
      Resolution r = answers.get(tcpQueries.get(i));
      note(KeyLayout.tcp(s.name()), r, warnings, refusals);
      tcp.add(r.backends().equals(s.backends()) ? s : s.withBackends(r.backends()));
    }
    throwIfRefused(refusals);
    return new Result(config.withBackends(http, tcp), warnings, waiting(answers));
  }

  private static void throwIfRefused(List<String> refusals) throws StoreException {
    if (!refusals.isEmpty()) {
      throw StoreException.refused(
          refusals.get(0)
              + (refusals.size() > 1 ? " (and " + (refusals.size() - 1) + " more)" : ""),
          null);
    }
  }

  /**
   * Keeps each service's answer from one pass to the next, so that a pass asks the resolver only
   * for the services that changed: a service the parser handed over as the very object it handed
   * over last time keeps the backends it was given then. After a signal from the resolver (an
   * answer may have changed), the services it says changed are asked again, or every service when
   * it cannot say. Not thread-safe: one per loop.
   */
  static final class Memo {
    private ProxyConfig lastParsed;
    private ProxyConfig lastAssigned;
    private final Map<BackendQuery, Integer> interest = new HashMap<>();
    private final TreeMap<ServiceName, String> httpWarnings = new TreeMap<>();
    private final TreeMap<ServiceName, String> tcpWarnings = new TreeMap<>();
    private int asked;

    /**
     * @param everything ask the resolver for every service, not only for those that changed
     */
    Result assign(ProxyConfig parsed, BackendResolver resolver, boolean everything)
        throws StoreException {
      return assign(parsed, resolver, everything, Set.of());
    }

    /**
     * @param everything ask the resolver for every service, not only for those that changed
     * @param answersChanged services whose answers the resolver said changed: asked again too
     */
    Result assign(
        ProxyConfig parsed,
        BackendResolver resolver,
        boolean everything,
        Set<ServiceName> answersChanged)
        throws StoreException {
      boolean anew = everything || lastParsed == null;
      if (anew) {
        // Everything as new: the whole interest asked, which is what resolve(Set) is told.
        lastParsed = ProxyConfig.EMPTY;
        lastAssigned = ProxyConfig.EMPTY;
        interest.clear();
        httpWarnings.clear();
        tcpWarnings.clear();
      }
      Walk<HttpService> h =
          walk(lastParsed.http(), parsed.http(), HttpService::name, BackendAssignment::query);
      Walk<TcpService> t =
          walk(lastParsed.tcp(), parsed.tcp(), TcpService::name, BackendAssignment::query);
      // A service whose answer carried a warning is asked again at every pass, as before: a name
      // that did not resolve, or a catalog entry that was missing, may be there now.
      h.askAgain(parsed.http(), httpWarnings.keySet(), HttpService::name, BackendAssignment::query);
      t.askAgain(parsed.tcp(), tcpWarnings.keySet(), TcpService::name, BackendAssignment::query);
      h.askAgain(parsed.http(), answersChanged, HttpService::name, BackendAssignment::query);
      t.askAgain(parsed.tcp(), answersChanged, TcpService::name, BackendAssignment::query);
      Set<BackendQuery> ask = new HashSet<>(h.asked);
      ask.addAll(t.asked);
      ask.addAll(h.again);
      ask.addAll(t.again);
      // Changed in place: a pass that fails leaves a full pass to the next one.
      lastParsed = null;
      for (Walk<?> w : List.of(h, t)) {
        w.gone.forEach(q -> interest.computeIfPresent(q, (k, n) -> n == 1 ? null : n - 1));
        w.asked.forEach(q -> interest.merge(q, 1, Integer::sum));
      }
      h.goneNames.forEach(httpWarnings::remove);
      t.goneNames.forEach(tcpWarnings::remove);
      Map<BackendQuery, Resolution> answers =
          // Told whenever the interest moved, also when nothing is left to ask about.
          anew || !ask.isEmpty() || !h.gone.isEmpty() || !t.gone.isEmpty()
              ? resolver.resolve(interest.keySet(), ask)
              : Map.of();
      List<String> refusals = new ArrayList<>();
      // Over arrays: at 10,000 services and one changed, list calls were most of the pass here.
      HttpService[] http = parsed.http().toArray(new HttpService[0]);
      HttpService[] lastHttp = lastAssigned.http().toArray(new HttpService[0]);
      for (int i = 0; i < http.length; i++) {
        if (h.was[i] >= 0) {
          http[i] = lastHttp[h.was[i]];
          continue;
        }
        HttpService s = http[i];
        Resolution r = answers.get(h.queries[i]);
        note(KeyLayout.http(s.name()), s.name(), r, httpWarnings, refusals);
        http[i] = r.backends().equals(s.backends()) ? s : s.withBackends(r.backends());
      }
      TcpService[] tcp = parsed.tcp().toArray(new TcpService[0]);
      TcpService[] lastTcp = lastAssigned.tcp().toArray(new TcpService[0]);
      for (int i = 0; i < tcp.length; i++) {
        if (t.was[i] >= 0) {
          tcp[i] = lastTcp[t.was[i]];
          continue;
        }
        TcpService s = tcp[i];
        Resolution r = answers.get(t.queries[i]);
        note(KeyLayout.tcp(s.name()), s.name(), r, tcpWarnings, refusals);
        tcp[i] = r.backends().equals(s.backends()) ? s : s.withBackends(r.backends());
      }
      throwIfRefused(refusals);
      asked = ask.size();
      lastAssigned = parsed.withBackends(Arrays.asList(http), Arrays.asList(tcp));
      lastParsed = parsed;
      // A service still waiting has a warning, and so was asked again in this pass.
      return new Result(lastAssigned, warnings(), waiting(answers));
    }

    /** How many services the last pass asked the resolver about. */
    int lastAsked() {
      return asked;
    }

    private List<String> warnings() {
      List<String> all = new ArrayList<>();
      httpWarnings.forEach((n, w) -> all.add(KeyLayout.http(n) + ": " + w));
      tcpWarnings.forEach((n, w) -> all.add(KeyLayout.tcp(n) + ": " + w));
      return all;
    }

    private static void note(
        String key,
        ServiceName name,
        Resolution r,
        Map<ServiceName, String> warnings,
        List<String> refusals) {
      warnings.remove(name);
      r.warning()
          .ifPresent(
              w -> {
                if (r.refused()) {
                  refusals.add(key + ": " + w);
                } else {
                  warnings.put(name, w);
                }
              });
    }
  }

  /**
   * Two name-sorted lists side by side: for each service of {@code now}, where it was in {@code
   * before} if it is the very same object there (else -1, and its query is asked), and the queries
   * of services that changed or went.
   */
  private static final class Walk<S> {
    int[] was;
    BackendQuery[] queries;
    final List<BackendQuery> asked = new ArrayList<>();
    final List<BackendQuery> gone = new ArrayList<>();
    final List<ServiceName> goneNames = new ArrayList<>();

    /** Queries of unchanged services asked again; the interest already holds them. */
    final List<BackendQuery> again = new ArrayList<>();

    /** Marks the unchanged services named in {@code warned} to be asked again. */
    void askAgain(
        List<S> now,
        Set<ServiceName> warned,
        java.util.function.Function<S, ServiceName> nameOf,
        java.util.function.Function<S, BackendQuery> queryOf) {
      for (ServiceName name : warned) {
        int low = 0;
        int high = now.size() - 1;
        while (low <= high) { // the services are sorted by name
          int mid = (low + high) >>> 1;
          int c = nameOf.apply(now.get(mid)).compareTo(name);
          if (c == 0) {
            if (was[mid] >= 0) {
              was[mid] = -1;
              queries[mid] = queryOf.apply(now.get(mid));
              again.add(queries[mid]);
            }
            break;
          } else if (c < 0) {
            low = mid + 1;
          } else {
            high = mid - 1;
          }
        }
      }
    }
  }

  private static <S> Walk<S> walk(
      List<S> before,
      List<S> now,
      java.util.function.Function<S, ServiceName> nameOf,
      java.util.function.Function<S, BackendQuery> queryOf) {
    Walk<S> w = new Walk<>();
    w.was = new int[now.size()];
    w.queries = new BackendQuery[now.size()];
    int j = 0;
    for (int i = 0; i < now.size(); i++) {
      int same = ProxyConfig.sameRun(before, j, now, i);
      for (int k = 0; k < same; k++) {
        w.was[i++] = j++;
      }
      if (i == now.size()) {
        break;
      }
      S s = now.get(i);
      ServiceName name = nameOf.apply(s);
      while (j < before.size() && nameOf.apply(before.get(j)).compareTo(name) < 0) {
        w.gone.add(queryOf.apply(before.get(j)));
        w.goneNames.add(nameOf.apply(before.get(j)));
        j++;
      }
      if (j < before.size() && before.get(j) == s) {
        w.was[i] = j++;
        continue;
      }
      if (j < before.size() && nameOf.apply(before.get(j)).equals(name)) {
        w.gone.add(queryOf.apply(before.get(j))); // changed: its old query goes
        j++;
      }
      w.was[i] = -1;
      w.queries[i] = queryOf.apply(s);
      w.asked.add(w.queries[i]);
    }
    for (; j < before.size(); j++) {
      w.gone.add(queryOf.apply(before.get(j)));
      w.goneNames.add(nameOf.apply(before.get(j)));
    }
    return w;
  }

  /** A resolution's warning, or its refusal, under the service's key. */
  private static void note(String key, Resolution r, List<String> warnings, List<String> refusals) {
    r.warning().ifPresent(w -> (r.refused() ? refusals : warnings).add(key + ": " + w));
  }

  private static BackendQuery query(HttpService s) {
    return new BackendQuery(s.name(), s.port(), s.backends(), s.agentNames());
  }

  private static BackendQuery query(TcpService s) {
    return new BackendQuery(s.name(), s.internalPort(), s.backends(), s.agentNames());
  }
}
