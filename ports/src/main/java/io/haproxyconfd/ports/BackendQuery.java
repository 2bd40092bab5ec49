package io.haproxyconfd.ports;

import io.haproxyconfd.domain.Backend;
import io.haproxyconfd.domain.NamedEndpoint;
import io.haproxyconfd.domain.Port;
import io.haproxyconfd.domain.ServiceName;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * What a resolver is asked for one service.
 *
 * @param service the service, whose name is also its DNS name or catalog name
 * @param port the port to combine with addresses that come without one ({@code port}, {@code
 *     internal_port})
 * @param declared backends written as keys by an orchestrator agent
 * @param declaredNames backends an agent wrote as {@code host:port}, when the operator allows it
 */
public record BackendQuery(
    ServiceName service,
    Optional<Port> port,
    List<Backend> declared,
    List<NamedEndpoint> declaredNames) {
  public BackendQuery {
    Objects.requireNonNull(service, "service");
    Objects.requireNonNull(port, "port");
    declared = List.copyOf(declared);
    declaredNames = List.copyOf(declaredNames);
  }

  public BackendQuery(ServiceName service, Optional<Port> port, List<Backend> declared) {
    this(service, port, declared, List.of());
  }

  /** Whether an agent wrote this service's backends, by address or by name. */
  public boolean declaredByAgent() {
    return !declared.isEmpty() || !declaredNames.isEmpty();
  }
}
