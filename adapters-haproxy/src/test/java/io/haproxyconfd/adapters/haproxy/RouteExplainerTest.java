package io.haproxyconfd.adapters.haproxy;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.haproxyconfd.domain.HostPattern;
import io.haproxyconfd.domain.HttpService;
import io.haproxyconfd.domain.PathPrefix;
import io.haproxyconfd.domain.PathRegex;
import io.haproxyconfd.domain.PathRule;
import io.haproxyconfd.domain.ProxyConfig;
import io.haproxyconfd.domain.ServiceName;
import io.haproxyconfd.ports.RouteExplanation;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class RouteExplainerTest {
  private static HttpService service(String name, List<String> hosts, List<PathRule> paths) {
    return HttpService.of(
        ServiceName.of(name), hosts.stream().map(HostPattern::of).toList(), paths);
  }

  private static final ProxyConfig CONFIG =
      new ProxyConfig(
          1,
          List.of(
              service("api", List.of(), List.of(PathPrefix.of("/api"))),
              service("apiv2", List.of("example.org"), List.of(PathPrefix.of("/api/v2"))),
              service("site", List.of("example.org"), List.of()),
              service("wild", List.of("*.example.org"), List.of()),
              service("search", List.of(), List.of(PathRegex.of("^/search/[0-9]+")))),
          List.of());

  @Test
  void the_first_rule_in_haproxys_order_answers_and_every_other_match_is_shadowed() {
    RouteExplanation e = RouteExplainer.explain(CONFIG, "Example.ORG:8080", "/api/v2/x?y=1");
    assertEquals("example.org", e.host());
    assertEquals(Optional.of("services/apiv2"), e.service());
    assertEquals(
        List.of(
            new RouteExplanation.Match(
                "host and path prefix", "example.org /api/v2", "services/apiv2", true),
            new RouteExplanation.Match("exact host", "example.org", "services/site", false),
            new RouteExplanation.Match("path prefix", "/api", "services/api", false)),
        e.matches());
  }

  @Test
  void a_wildcard_matches_subdomains_only_and_a_regex_sees_the_query() {
    assertEquals(
        Optional.of("services/wild"),
        RouteExplainer.explain(CONFIG, "a.b.example.org", "/").service());
    assertEquals(Optional.empty(), RouteExplainer.explain(CONFIG, "badexample.org", "/").service());
    assertEquals(
        Optional.of("services/search"),
        RouteExplainer.explain(CONFIG, "other.net", "/search/1?q").service());
    RouteExplanation none = RouteExplainer.explain(CONFIG, "other.net", "/nothing");
    assertEquals(Optional.empty(), none.service());
    assertEquals(List.of(), none.matches());
  }
}
