package io.haproxyconfd.app;

import io.haproxyconfd.domain.HttpService;
import io.haproxyconfd.domain.KeyLayout;
import io.haproxyconfd.domain.ProxyConfig;
import io.haproxyconfd.domain.TcpService;
import io.haproxyconfd.ports.BackendQuery;
import io.haproxyconfd.ports.BackendResolver;
import io.haproxyconfd.ports.Resolution;
import io.haproxyconfd.ports.StoreException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Asks the resolver for every service's backends and puts them into the config. */
final class BackendAssignment {
  private BackendAssignment() {}

  /** The config with backends, and the resolver's warnings ("web: DNS timed out; ..."). */
  record Result(ProxyConfig config, List<String> warnings) {}

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
    if (!refusals.isEmpty()) {
      throw StoreException.refused(
          refusals.get(0)
              + (refusals.size() > 1 ? " (and " + (refusals.size() - 1) + " more)" : ""),
          null);
    }
    return new Result(new ProxyConfig(config.revision(), http, tcp), warnings);
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
