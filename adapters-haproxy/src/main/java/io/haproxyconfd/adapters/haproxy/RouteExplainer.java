package io.haproxyconfd.adapters.haproxy;

import io.haproxyconfd.domain.HostPattern;
import io.haproxyconfd.domain.PathRegex;
import io.haproxyconfd.domain.PathRule;
import io.haproxyconfd.domain.ProxyConfig;
import io.haproxyconfd.domain.Route;
import io.haproxyconfd.ports.RouteExplanation;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Which service HAProxy sends a request to, worked out as the rendered config has HAProxy do it:
 * the map files in {@link Plan.MapFile} order, each looked up with its own fetch and match (host
 * and path, host, path; exact, suffix, prefix, regex), the first map that gives a backend deciding.
 * Within a map, the lines are in the order they are written ({@link ProxyConfig#routes}, most
 * specific first): a regex or suffix map takes the first line that matches, a prefix map ({@code
 * map_beg}, a tree in HAProxy) the longest prefix that matches, which that order also puts first.
 */
final class RouteExplainer {
  private RouteExplainer() {}

  static RouteExplanation explain(ProxyConfig config, String rawHost, String pathWithQuery) {
    // As the frontend computes txn.host: the Host header up to a colon, in lower case.
    String host = rawHost.strip();
    int colon = host.indexOf(':');
    host = asciiLower(colon < 0 ? host : host.substring(0, colon));
    String pathq = pathWithQuery.isEmpty() ? "/" : pathWithQuery;
    int q = pathq.indexOf('?');
    String path = q < 0 ? pathq : pathq.substring(0, q);

    // Each matching route with its map key, by map in the order HAProxy tries the maps.
    Map<Plan.MapFile, List<Map.Entry<String, Route>>> byMap = new EnumMap<>(Plan.MapFile.class);
    for (Route route : config.routes()) {
      Map.Entry<Plan.MapFile, String> entry = Plan.mapEntry(route);
      Plan.MapFile map = entry.getKey();
      String input =
          switch (map) {
            case HOST_PATH -> host + path;
            case HOST_PATH_REGEX -> host + pathq;
            case HOST, WILDCARD -> host;
            case PATH -> path;
            case PATH_REGEX -> pathq;
          };
      if (matches(map, entry.getValue(), input)) {
        byMap.computeIfAbsent(map, m -> new ArrayList<>()).add(Map.entry(entry.getValue(), route));
      }
    }
    List<RouteExplanation.Match> all = new ArrayList<>();
    byMap.forEach(
        (map, matched) -> {
          if (map == Plan.MapFile.HOST_PATH || map == Plan.MapFile.PATH) {
            // map_beg: HAProxy keeps these prefixes in a tree and takes the longest that matches.
            matched.sort(
                java.util.Comparator.comparingInt(
                    (Map.Entry<String, Route> m) -> -m.getKey().length()));
          }
          for (Map.Entry<String, Route> m : matched) {
            Route route = m.getValue();
            all.add(
                new RouteExplanation.Match(
                    kind(map), rule(route), "services/" + route.service().value(), all.isEmpty()));
          }
        });
    Optional<String> service = all.isEmpty() ? Optional.empty() : Optional.of(all.get(0).service());
    return new RouteExplanation(host, pathq, service, List.copyOf(all));
  }

  /** As HAProxy's {@code lower} converter: ASCII letters only. */
  private static String asciiLower(String s) {
    StringBuilder out = new StringBuilder(s.length());
    for (char c : s.toCharArray()) {
      out.append(c >= 'A' && c <= 'Z' ? (char) (c + 32) : c);
    }
    return out.toString();
  }

  /** One map line against its fetch, with the map's own match. */
  private static boolean matches(Plan.MapFile map, String key, String input) {
    return switch (map) {
      case HOST -> input.equals(key); // map: exact
      case WILDCARD -> input.endsWith(key); // map_end
      case HOST_PATH, PATH -> input.startsWith(key); // map_beg
      case HOST_PATH_REGEX, PATH_REGEX -> regex(key).matcher(input).find(); // map_reg
    };
  }

  private static Pattern regex(String key) {
    try {
      return Pattern.compile(key);
    } catch (PatternSyntaxException e) {
      // HAProxy (PCRE) took it, Java does not: it cannot be judged here.
      return Pattern.compile("(?!)");
    }
  }

  private static String kind(Plan.MapFile map) {
    return switch (map) {
      case HOST_PATH -> "host and path prefix";
      case HOST_PATH_REGEX -> "host and path (wildcard host or regex)";
      case HOST -> "exact host";
      case WILDCARD -> "wildcard host";
      case PATH -> "path prefix";
      case PATH_REGEX -> "path regex";
    };
  }

  private static String rule(Route route) {
    StringBuilder r = new StringBuilder(route.host().map(HostPattern::value).orElse(""));
    route
        .path()
        .ifPresent(
            (PathRule p) -> {
              if (r.length() > 0) {
                r.append(' ');
              }
              r.append(p instanceof PathRegex ? "~ " : "").append(p.value());
            });
    return r.toString();
  }
}
