package io.haproxyconfd.domain;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * A TCP service ({@code tcp-services/<name>/...}): HAProxy listens on {@code externalPort} and
 * forwards to the backends.
 *
 * @param internalPort the backend port used with addresses found by DNS ({@code internal_port})
 * @param agentNames backends an agent wrote as {@code host:port}, resolved into {@code backends}
 */
public record TcpService(
    ServiceName name,
    Port externalPort,
    Optional<Port> internalPort,
    Balance balance,
    List<Backend> backends,
    List<NamedEndpoint> agentNames) {

  public TcpService {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(externalPort, "externalPort");
    Objects.requireNonNull(internalPort, "internalPort");
    Objects.requireNonNull(balance, "balance");
    backends = backends.stream().distinct().sorted().toList();
    agentNames = agentNames.stream().distinct().sorted().toList();
  }

  public TcpService withBackends(List<Backend> newBackends) {
    return new TcpService(name, externalPort, internalPort, balance, newBackends, agentNames);
  }
}
