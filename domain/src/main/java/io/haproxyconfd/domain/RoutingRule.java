package io.haproxyconfd.domain;

/** One condition a request must meet to reach a service: a host, a path prefix or a path regex. */
public sealed interface RoutingRule permits HostPattern, PathRule {}
