package io.haproxyconfd.domain;

import java.util.Optional;

/** HTTP health checks of a service's servers: {@code GET uri}, on {@code port} when given. */
public record HealthCheck(String uri, Optional<Port> port) {
  public HealthCheck {
    Grammar.path(uri);
    if (port == null) {
      throw new IllegalArgumentException("health check port is null; use Optional.empty()");
    }
  }
}
