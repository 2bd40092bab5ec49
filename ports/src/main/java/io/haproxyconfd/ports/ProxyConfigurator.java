package io.haproxyconfd.ports;

import io.haproxyconfd.domain.Problem;
import io.haproxyconfd.domain.ProxyConfig;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Collection;
import java.util.List;
import java.util.Map;

/**
 * Makes the proxy serve a desired config, by the cheapest means that drops no connection; and
 * shows, without applying anything, what a config would become and what the proxy would refuse.
 *
 * <p>Threading: {@link #start} once, then {@link #apply} from one thread at a time; calls are not
 * meant to overlap. {@link #render}, {@link #renderTo} and {@link #check} need no start. {@link
 * #close} and {@link #stop} may come from any thread.
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

  /** The proxy's config file for {@code config}; nothing is written or run. */
  String render(ProxyConfig config);

  /**
   * Writes the config file for {@code config} into {@code dir} (made if missing) with every file it
   * refers to, so that the proxy's own check of that file checks exactly what would be served.
   *
   * @return the config file written
   */
  Path renderTo(ProxyConfig config, Path dir) throws IOException;

  /**
   * Runs the proxy's own check on {@code config}, applying nothing.
   *
   * @return a problem per service the proxy would refuse, named by its key, or one for the whole
   *     config; empty if all is accepted
   * @throws ProxyException when the proxy's check cannot be run
   */
  List<Problem> check(ProxyConfig config) throws ProxyException;

  /**
   * The proxy's own view of the servers of these services, read from it now; may be called from any
   * thread, beside an apply.
   *
   * @param services keys of services, {@code services/web} or {@code tcp-services/db}
   * @return each service the proxy serves, with its servers; a service it does not serve is absent
   * @throws ProxyException when the proxy cannot be asked
   */
  Map<String, List<ServerHealth>> health(Collection<String> services) throws ProxyException;

  /**
   * Which service of {@code config} the proxy would send a request for {@code host} and {@code
   * path} (with its query string) to, and which other rules match it, in the order the proxy tries
   * them; nothing is written or run.
   */
  RouteExplanation explain(ProxyConfig config, String host, String path);

  /** Stops supervising, and stops the proxy too. */
  void stop();

  /** Stops supervising. Whether the proxy keeps running is the adapter's documented choice. */
  @Override
  void close();
}
