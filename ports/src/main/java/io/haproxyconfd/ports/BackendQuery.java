package io.haproxyconfd.ports;

import io.haproxyconfd.domain.Backend;
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
 */
public record BackendQuery(ServiceName service, Optional<Port> port, List<Backend> declared) {
  public BackendQuery {
    Objects.requireNonNull(service, "service");
    Objects.requireNonNull(port, "port");
    declared = List.copyOf(declared);
  }
}
