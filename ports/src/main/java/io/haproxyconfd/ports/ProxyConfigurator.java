package io.haproxyconfd.ports;

import io.haproxyconfd.domain.ProxyConfig;

/**
 * Makes the proxy serve a desired config, by the cheapest means that drops no connection.
 *
 * <p>Threading: {@link #start} once, then {@link #apply} from one thread at a time; calls are not
 * meant to overlap. {@link #close} may come from any thread.
 */
public interface ProxyConfigurator extends AutoCloseable {
  /**
   * Starts the proxy, or adopts one already running from an earlier life of the daemon, serving the
   * last good config kept on disk if there is one.
   *
   * @throws ProxyException when the proxy cannot be started at all
   */
  void start() throws ProxyException;

  /**
   * Applies a desired config. A config that the proxy refuses is never applied; services the proxy
   * refuses are left out and named in the result, the rest is applied.
   *
   * @return what was done; never throws for a bad config
   * @throws ProxyException when the proxy itself cannot be reached or restarted
   */
  ApplyResult apply(ProxyConfig desired) throws ProxyException;

  /** Stops supervising. Whether the proxy keeps running is the adapter's documented choice. */
  @Override
  void close();
}
