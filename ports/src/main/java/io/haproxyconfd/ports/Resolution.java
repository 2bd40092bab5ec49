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
 * @param refused the source refused to tell (an ACL hid the service's instances): the backends are
 *     not to be believed, and nothing may be applied from them
 * @param pending the source has not answered yet (the lookup is queued or in flight): the service
 *     is served with what is known so far, and the daemon is not ready until the answer comes; the
 *     resolver signals when it does
 */
public record Resolution(
    List<Backend> backends, Optional<String> warning, boolean refused, boolean pending) {
  public Resolution {
    backends = backends.stream().distinct().sorted().toList();
    Objects.requireNonNull(warning, "warning");
    if ((refused || pending) && warning.isEmpty()) {
      throw new IllegalArgumentException("a refusal or a wait says why");
    }
  }

  public Resolution(List<Backend> backends, Optional<String> warning) {
    this(backends, warning, false, false);
  }

  public static Resolution of(List<Backend> backends) {
    return new Resolution(backends, Optional.empty());
  }

  /** The source refused to answer for this service, for {@code why}. */
  public static Resolution refused(String why) {
    return new Resolution(List.of(), Optional.of(why), true, false);
  }

  /** No answer yet, for {@code why}; the resolver signals when one comes. */
  public static Resolution pending(String why) {
    return new Resolution(List.of(), Optional.of(why), false, true);
  }
}
