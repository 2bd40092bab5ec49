package io.haproxyconfd.ports;

import io.haproxyconfd.domain.Problem;
import java.util.List;
import java.util.Objects;

/**
 * What a configurator did with a desired config.
 *
 * @param outcome how the config was applied, or that it was not
 * @param revision the revision of the config now serving
 * @param problems services the proxy itself refused (they were left out of what was applied), or
 *     why the whole config was rejected
 * @param detail one line for the log ("3 servers updated through the runtime API")
 */
public record ApplyResult(Outcome outcome, long revision, List<Problem> problems, String detail) {

  /** How a config was applied. */
  public enum Outcome {
    /** The proxy already serves exactly this. */
    UNCHANGED,
    /** Applied without a reload, through the proxy's runtime API. */
    RUNTIME_UPDATE,
    /** A new configuration file was checked and the proxy reloaded without dropping connections. */
    RELOADED,
    /** Not applied; the last good config keeps serving. */
    REJECTED
  }

  public ApplyResult {
    Objects.requireNonNull(outcome, "outcome");
    problems = List.copyOf(problems);
    Objects.requireNonNull(detail, "detail");
  }
}
