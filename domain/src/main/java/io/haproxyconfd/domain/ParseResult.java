package io.haproxyconfd.domain;

import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * What a snapshot parsed into: the config of every good service, and every problem found.
 *
 * @param leftOut the services that the problems kept out of {@code config}
 */
public record ParseResult(ProxyConfig config, List<Problem> problems, Set<ServiceName> leftOut) {
  public ParseResult {
    problems = List.copyOf(problems);
    leftOut = Set.copyOf(new TreeSet<>(leftOut));
  }
}
