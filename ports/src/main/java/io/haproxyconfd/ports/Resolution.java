package io.haproxyconfd.ports;

import io.haproxyconfd.domain.Backend;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The backends found for one service.
 *
 * @param backends the addresses, possibly empty (then HAProxy answers 503 for the service)
 * @param warning why the answer may be incomplete or stale ("DNS timed out; keeping the last known
 *     2 addresses"); empty when all is well
 */
public record Resolution(List<Backend> backends, Optional<String> warning) {
  public Resolution {
    backends = backends.stream().distinct().sorted().toList();
    Objects.requireNonNull(warning, "warning");
  }

  public static Resolution of(List<Backend> backends) {
    return new Resolution(backends, Optional.empty());
  }
}
