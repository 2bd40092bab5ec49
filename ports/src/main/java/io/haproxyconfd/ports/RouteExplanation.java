package io.haproxyconfd.ports;

import java.util.List;
import java.util.Optional;

/**
 * Which service answers a request, and why: every rule that matches it, in the order the proxy
 * tries them; the first answers, the others are shadowed by it.
 *
 * @param host the host as the proxy compares it (lower case, without a port)
 * @param path the path with its query string, as asked
 * @param service the service that answers ({@code services/web}); empty: none does (503)
 * @param matches the rules that match, in the order the proxy tries them
 */
public record RouteExplanation(
    String host, String path, Optional<String> service, List<Match> matches) {

  /**
   * One rule that matches.
   *
   * @param kind what kind of rule, in words: "host and path prefix", "exact host", ...
   * @param rule the rule as the keys wrote it: {@code *.example.org /api}
   * @param service the service the rule leads to
   * @param answers whether it answers; otherwise an earlier rule shadows it
   */
  public record Match(String kind, String rule, String service, boolean answers) {}
}
