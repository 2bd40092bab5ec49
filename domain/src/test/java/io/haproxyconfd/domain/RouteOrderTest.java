package io.haproxyconfd.domain;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The order routes are tried in, written out, is the order its definition spells. */
class RouteOrderTest {
  /** The definition, as a chain of keys: slow (it allocates), but plainly what the order is. */
  private static final Comparator<Route> DEFINITION =
      Comparator.comparing(Route::kind)
          .thenComparing(r -> r.host().map(HostPattern::isWildcard).orElse(false))
          .thenComparing(r -> -r.host().map(h -> h.value().length()).orElse(0))
          .thenComparing(r -> r.host().map(HostPattern::value).orElse(""))
          .thenComparing(r -> r.path().map(p -> p instanceof PathRegex).orElse(false))
          .thenComparing(r -> -r.path().map(p -> p.value().length()).orElse(0))
          .thenComparing(r -> r.path().map(PathRule::value).orElse(""))
          .thenComparing(Route::service);

  @Test
  void most_specific_first_sorts_as_its_definition_does() {
    Random random = new Random(3);
    List<String> hosts =
        List.of(
            "a.example.org",
            "b.example.org",
            "ab.example.org",
            "*.example.org",
            "*.b.example.org",
            "*.c.example.org",
            "b.org");
    List<PathRule> paths =
        List.of(
            new PathPrefix("/"),
            new PathPrefix("/api"),
            new PathPrefix("/apx"),
            new PathPrefix("/apy"),
            new PathRegex("^/v[0-9]+/"),
            new PathRegex("\\.png$"));
    List<Route> routes = new ArrayList<>();
    for (int i = 0; i < 2000; i++) {
      Optional<HostPattern> host =
          random.nextInt(3) == 0
              ? Optional.empty()
              : Optional.of(new HostPattern(hosts.get(random.nextInt(hosts.size()))));
      Optional<PathRule> path =
          host.isPresent() && random.nextBoolean()
              ? Optional.empty()
              : Optional.of(paths.get(random.nextInt(paths.size())));
      routes.add(new Route(host, path, ServiceName.of("s" + random.nextInt(5))));
    }
    List<Route> byDefinition = new ArrayList<>(routes);
    byDefinition.sort(DEFINITION);
    List<Route> written = new ArrayList<>(routes);
    written.sort(Route.MOST_SPECIFIC_FIRST);
    assertEquals(byDefinition, written);
  }
}
