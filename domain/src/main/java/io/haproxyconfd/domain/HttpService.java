package io.haproxyconfd.domain;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * An HTTP service ({@code services/<name>/...}): which requests reach it ({@link Routing}), how
 * they are handled ({@link Policy}), and the servers they go to ({@link Upstream}). Each group
 * changes on its own and is compared as a whole: a change of routes alone, or of backends alone, is
 * one the proxy can take without a reload ({@link ConfigChange}).
 *
 * <p>A request must match one of the hosts (when any are set) and one of the path rules (when any
 * are set).
 */
public final class HttpService {
  private final ServiceName name;
  private final Routing routing;
  private final Policy policy;
  private final Upstream upstream;

  /**
   * Made once: the parser, the config's own check and the maps all ask for them, and a service is
   * kept unchanged from pass to pass.
   */
  private final List<Route> routes;

  /**
   * Which requests reach the service.
   *
   * @param hosts {@code domain} and {@code virtual_hosts}, sorted
   * @param paths {@code url_beg} and {@code url_reg}, in the order given
   * @param withheld routes of this service that another service claimed first: left out of {@link
   *     #routes()}, while the service keeps its other routes
   */
  public record Routing(List<HostPattern> hosts, List<PathRule> paths, Set<Route.Match> withheld) {
    public Routing {
      hosts = hosts.stream().distinct().sorted().toList();
      paths = List.copyOf(paths.stream().distinct().toList());
      withheld = Set.copyOf(withheld);
    }

    /** These hosts and paths, every route of them the service's own. */
    public static Routing of(List<HostPattern> hosts, List<PathRule> paths) {
      return new Routing(hosts, paths, Set.of());
    }
  }

  /**
   * How the requests that reach the service are handled on their way to its servers.
   *
   * @param keepPath whether a {@code url_beg} prefix stays on the path sent to the servers
   */
  public record Policy(
      boolean keepPath,
      Balance balance,
      Optional<Certificate> certificate,
      Optional<StickyCookie> cookie,
      Optional<HealthCheck> healthCheck,
      Optional<BasicAuth> basicAuth,
      boolean forceHttps,
      Optional<CustomSettings> customSettings) {

    /** Round robin, the prefix stripped, HTTP only, no cookie, check, auth or custom lines. */
    public static final Policy DEFAULT =
        new Policy(
            false,
            Balance.ROUNDROBIN,
            Optional.empty(),
            Optional.empty(),
            Optional.empty(),
            Optional.empty(),
            false,
            Optional.empty());

    public Policy {
      Objects.requireNonNull(balance, "balance");
      Objects.requireNonNull(certificate, "certificate");
      Objects.requireNonNull(cookie, "cookie");
      Objects.requireNonNull(healthCheck, "healthCheck");
      Objects.requireNonNull(basicAuth, "basicAuth");
      Objects.requireNonNull(customSettings, "customSettings");
    }

    /** This policy with {@code keep_path} as given, everything else as it is. */
    public Policy withKeepPath(boolean keep) {
      return new Policy(
          keep, balance, certificate, cookie, healthCheck, basicAuth, forceHttps, customSettings);
    }
  }

  /**
   * The service's servers and where they come from.
   *
   * @param port the backend port used with addresses found by DNS ({@code port})
   * @param backends the servers, sorted; empty until resolved, or when none is alive
   * @param agentNames backends an agent wrote as {@code host:port}, resolved into {@code backends}
   */
  public record Upstream(
      Optional<Port> port, List<Backend> backends, List<NamedEndpoint> agentNames) {
    public Upstream {
      Objects.requireNonNull(port, "port");
      backends = distinctSorted(backends);
      agentNames = distinctSorted(agentNames);
    }

    private static <T extends Comparable<? super T>> List<T> distinctSorted(List<T> items) {
      // Most services have one server or none: no stream to make for those.
      return items.size() < 2 ? List.copyOf(items) : items.stream().distinct().sorted().toList();
    }

    /** No server yet, found by DNS on {@code port} if it is set. */
    public static Upstream on(Optional<Port> port) {
      return new Upstream(port, List.of(), List.of());
    }
  }

  public HttpService(ServiceName name, Routing routing, Policy policy, Upstream upstream) {
    this.name = Objects.requireNonNull(name, "name");
    this.routing = Objects.requireNonNull(routing, "routing");
    this.policy = Objects.requireNonNull(policy, "policy");
    this.upstream = Objects.requireNonNull(upstream, "upstream");
    if (routing.hosts().isEmpty() && routing.paths().isEmpty()) {
      throw new IllegalArgumentException(
          "service " + name + " has neither a host nor a path rule: nothing would reach it");
    }
    this.routes = List.copyOf(makeRoutes());
  }

  public ServiceName name() {
    return name;
  }

  public Routing routing() {
    return routing;
  }

  public Policy policy() {
    return policy;
  }

  public Upstream upstream() {
    return upstream;
  }

  @Override
  public boolean equals(Object o) {
    return o == this
        || (o instanceof HttpService other
            && name.equals(other.name)
            && routing.equals(other.routing)
            && policy.equals(other.policy)
            && upstream.equals(other.upstream));
  }

  @Override
  public int hashCode() {
    return Objects.hash(name, routing, policy, upstream);
  }

  @Override
  public String toString() {
    return "HttpService[name="
        + name
        + ", routing="
        + routing
        + ", policy="
        + policy
        + ", upstream="
        + upstream
        + "]";
  }

  /** A service with only the required parts; the rest takes its default. */
  public static HttpService of(ServiceName name, List<HostPattern> hosts, List<PathRule> paths) {
    return new HttpService(
        name, Routing.of(hosts, paths), Policy.DEFAULT, Upstream.on(Optional.empty()));
  }

  public List<HostPattern> hosts() {
    return routing.hosts();
  }

  public List<PathRule> paths() {
    return routing.paths();
  }

  /**
   * The path prefixes taken off the requests it is forwarded ({@code url_beg} without {@code
   * keep_path}), in the order given: HAProxy takes off the longest that matches, whatever the
   * order.
   */
  public List<String> strippedPrefixes() {
    if (policy.keepPath() || routing.paths().isEmpty()) {
      return List.of(); // most services: nothing to build
    }
    return routing.paths().stream()
        .filter(p -> p instanceof PathPrefix)
        .map(PathRule::value)
        .toList();
  }

  public List<Backend> backends() {
    return upstream.backends();
  }

  public Optional<Port> port() {
    return upstream.port();
  }

  public List<NamedEndpoint> agentNames() {
    return upstream.agentNames();
  }

  public HttpService withBackends(List<Backend> newBackends) {
    return new HttpService(
        name, routing, policy, new Upstream(upstream.port(), newBackends, upstream.agentNames()));
  }

  /** The same service with its other routes only; {@code matches} go to another service. */
  public HttpService withholding(Set<Route.Match> matches) {
    return withRouting(new Routing(routing.hosts(), routing.paths(), matches));
  }

  public HttpService withRouting(Routing newRouting) {
    return new HttpService(name, newRouting, policy, upstream);
  }

  /**
   * The routes of this service: every host with every path rule (hosts or paths alone if only they
   * are set), but those withheld.
   */
  public List<Route> routes() {
    return routes;
  }

  private List<Route> makeRoutes() {
    List<Route> routes = new ArrayList<>();
    List<Optional<HostPattern>> hostChoices =
        hosts().isEmpty() ? List.of(Optional.empty()) : hosts().stream().map(Optional::of).toList();
    List<Optional<PathRule>> pathChoices =
        paths().isEmpty() ? List.of(Optional.empty()) : paths().stream().map(Optional::of).toList();
    for (Optional<HostPattern> host : hostChoices) {
      for (Optional<PathRule> path : pathChoices) {
        Route route = new Route(host, path, name);
        if (!routing.withheld().contains(route.match())) {
          routes.add(route);
        }
      }
    }
    return routes;
  }
}
