package io.haproxyconfd.app;

import io.haproxyconfd.domain.ConfigParser;
import io.haproxyconfd.domain.KeySnapshot;
import io.haproxyconfd.domain.ParseOptions;
import io.haproxyconfd.domain.ParseResult;
import io.haproxyconfd.domain.ProxyId;
import io.haproxyconfd.ports.BackendResolver;
import io.haproxyconfd.ports.KeyValueSource;
import io.haproxyconfd.ports.StoreException;

/**
 * The one way keys become a config with backends, for {@code run}, {@code check} and {@code
 * render}: read the proxy's keys, parse them, ask the resolver for every service's backends.
 */
final class Pipeline {
  private Pipeline() {}

  /** What each step gave. */
  record Prepared(KeySnapshot snapshot, ParseResult parsed, BackendAssignment.Result resolved) {}

  /**
   * Reads, parses and resolves.
   *
   * @throws StoreException the store did not answer or refused, or the resolver's source refused
   *     ({@link StoreException#isPermanent()} for refusals)
   */
  static Prepared run(
      KeyValueSource source, ProxyId proxy, ParseOptions options, BackendResolver resolver)
      throws StoreException {
    KeySnapshot snapshot = source.read(proxy);
    ParseResult parsed = ConfigParser.parse(snapshot, options);
    return new Prepared(snapshot, parsed, BackendAssignment.assign(parsed.config(), resolver));
  }
}
