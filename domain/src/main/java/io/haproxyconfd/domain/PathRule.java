package io.haproxyconfd.domain;

/** A condition on the request path. */
public sealed interface PathRule extends RoutingRule permits PathPrefix, PathRegex {
  /** The text as written in the key. */
  String value();
}
