package io.haproxyconfd.domain;

import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * What a snapshot parsed into: the config of every good service, and every problem found.
 *
 * @param leftOut the services that the problems kept out of {@code config}
 * @param lastGood the keys of every service that parsed clean now, and of every service kept on its
 *     last good version: what to parse the next snapshot with
 */
public record ParseResult(
    ProxyConfig config, List<Problem> problems, Set<ServiceName> leftOut, LastGood lastGood) {
  public ParseResult {
    problems = List.copyOf(problems);
    leftOut = Set.copyOf(new TreeSet<>(leftOut));
  }
}
