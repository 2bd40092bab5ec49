package io.haproxyconfd.domain;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * An HTTP service ({@code services/<name>/...}): which requests reach it and how they are balanced
 * over its backends. A request must match one of the hosts (when any are set) and one of the path
 * rules (when any are set).
 *
 * @param port the backend port used with addresses found by DNS ({@code port})
 * @param backends the servers, sorted; empty until resolved, or when none is alive
 * @param agentNames backends an agent wrote as {@code host:port}, resolved into {@code backends}
 * @param withheld routes of this service that another service claimed first: left out of {@link
 *     #routes()}, while the service keeps its other routes
 */
public record HttpService(
    ServiceName name,
    List<HostPattern> hosts,
    List<PathRule> paths,
    boolean keepPath,
    Balance balance,
    Optional<Port> port,
    List<Backend> backends,
    List<NamedEndpoint> agentNames,
    Optional<Certificate> certificate,
    Optional<StickyCookie> cookie,
    Optional<HealthCheck> healthCheck,
    Optional<BasicAuth> basicAuth,
    boolean forceHttps,
    Optional<CustomSettings> customSettings,
    Set<Route.Match> withheld) {

  public HttpService {
    Objects.requireNonNull(name, "name");
    hosts = hosts.stream().distinct().sorted().toList();
    paths = List.copyOf(paths.stream().distinct().toList());
    backends = backends.stream().distinct().sorted().toList();
    agentNames = agentNames.stream().distinct().sorted().toList();
    Objects.requireNonNull(balance, "balance");
    Objects.requireNonNull(port, "port");
    Objects.requireNonNull(certificate, "certificate");
    Objects.requireNonNull(cookie, "cookie");
    Objects.requireNonNull(healthCheck, "healthCheck");
    Objects.requireNonNull(basicAuth, "basicAuth");
    Objects.requireNonNull(customSettings, "customSettings");
    withheld = Set.copyOf(withheld);
    if (hosts.isEmpty() && paths.isEmpty()) {
      throw new IllegalArgumentException(
          "service " + name + " has neither a host nor a path rule: nothing would reach it");
    }
  }

  /** A service with only the required parts; the rest takes its default. */
  public static HttpService of(ServiceName name, List<HostPattern> hosts, List<PathRule> paths) {
    return new HttpService(
        name,
        hosts,
        paths,
        false,
        Balance.ROUNDROBIN,
        Optional.empty(),
        List.of(),
        List.of(),
        Optional.empty(),
        Optional.empty(),
        Optional.empty(),
        Optional.empty(),
        false,
        Optional.empty(),
        Set.of());
  }

  public HttpService withBackends(List<Backend> newBackends) {
    return new HttpService(
        name,
        hosts,
        paths,
        keepPath,
        balance,
        port,
        newBackends,
        agentNames,
        certificate,
        cookie,
        healthCheck,
        basicAuth,
        forceHttps,
        customSettings,
        withheld);
  }

  /** The same service with its other routes only; {@code matches} go to another service. */
  public HttpService withholding(Set<Route.Match> matches) {
    return new HttpService(
        name,
        hosts,
        paths,
        keepPath,
        balance,
        port,
        backends,
        agentNames,
        certificate,
        cookie,
        healthCheck,
        basicAuth,
        forceHttps,
        customSettings,
        matches);
  }

  /** The same service with these hosts and paths, every route of them its own. */
  public HttpService withRoutes(List<HostPattern> newHosts, List<PathRule> newPaths) {
    return new HttpService(
        name,
        newHosts,
        newPaths,
        keepPath,
        balance,
        port,
        backends,
        agentNames,
        certificate,
        cookie,
        healthCheck,
        basicAuth,
        forceHttps,
        customSettings,
        Set.of());
  }

  /**
   * The routes of this service: every host with every path rule (hosts or paths alone if only they
   * are set), but those {@link #withheld}.
   */
  public List<Route> routes() {
    List<Route> routes = new ArrayList<>();
    List<Optional<HostPattern>> hostChoices =
        hosts.isEmpty() ? List.of(Optional.empty()) : hosts.stream().map(Optional::of).toList();
    List<Optional<PathRule>> pathChoices =
        paths.isEmpty() ? List.of(Optional.empty()) : paths.stream().map(Optional::of).toList();
    for (Optional<HostPattern> host : hostChoices) {
      for (Optional<PathRule> path : pathChoices) {
        Route route = new Route(host, path, name);
        if (!withheld.contains(route.match())) {
          routes.add(route);
        }
      }
    }
    return routes;
  }
}
