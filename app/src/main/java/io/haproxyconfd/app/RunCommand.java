package io.haproxyconfd.app;

import io.haproxyconfd.domain.KeySnapshot;
import io.haproxyconfd.domain.ProxyId;
import io.haproxyconfd.ports.BackendResolver;
import io.haproxyconfd.ports.KeyValueSource;
import io.haproxyconfd.ports.ProxyConfigurator;
import io.haproxyconfd.ports.ProxyException;
import io.haproxyconfd.ports.StoreException;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import sun.misc.Signal;

/** {@code haproxy-confd run}: the daemon. */
@Command(
    name = "run",
    mixinStandardHelpOptions = true,
    description =
        "Start HAProxy (or adopt the one already running) on the last good config, then keep it"
            + " configured from the keys until SIGTERM.",
    footer = ExitCode.HELP)
final class RunCommand implements Callable<Integer> {
  private static final Logger LOG = LoggerFactory.getLogger(RunCommand.class);

  @Mixin StoreOptions store;
  @Mixin ProxyOptions proxy;

  @Option(
      names = "--admin-address",
      defaultValue = "${env:ADMIN_ADDRESS:-127.0.0.1:9180}",
      description =
          "host:port of /healthz, /readyz, /metrics, /status (env ADMIN_ADDRESS; default ${DEFAULT-VALUE}).")
  String adminAddress;

  @Option(
      names = "--admin-token",
      defaultValue = "${env:ADMIN_TOKEN:-}",
      description =
          "When set, the admin address asks for it on everything but /healthz and /readyz:"
              + " 'Authorization: Bearer TOKEN', or basic auth with it as password (env"
              + " ADMIN_TOKEN; prefer the environment: a flag shows in ps).")
  String adminToken;

  @Option(
      names = "--quiet-period",
      defaultValue = "${env:QUIET_PERIOD:-50ms}",
      converter = DurationConverter.class,
      description =
          "Wait this long after the last change before applying (env QUIET_PERIOD; default"
              + " ${DEFAULT-VALUE}).")
  Duration quietPeriod;

  @Option(
      names = "--max-delay",
      defaultValue = "${env:MAX_DELAY:-500ms}",
      converter = DurationConverter.class,
      description =
          "But never longer than this after the first change (env MAX_DELAY; default"
              + " ${DEFAULT-VALUE}).")
  Duration maxDelay;

  @Option(
      names = "--resync",
      defaultValue = "${env:RESYNC_INTERVAL:-5m}",
      converter = DurationConverter.class,
      description =
          "Re-read everything this often even without a change (env RESYNC_INTERVAL; default"
              + " ${DEFAULT-VALUE}).")
  Duration resync;

  @Option(
      names = "--incremental",
      negatable = true,
      defaultValue = "${env:INCREMENTAL:-true}",
      fallbackValue = "true",
      description =
          "Read, parse and resolve only what changed (env INCREMENTAL; default ${DEFAULT-VALUE})."
              + " --no-incremental makes every pass a full one, as the periodic resync is.")
  boolean incremental;

  @Option(
      names = "--keep-haproxy-on-exit",
      defaultValue = "${env:KEEP_HAPROXY_ON_EXIT:-false}",
      description =
          "Leave HAProxy serving when the daemon stops, for the next daemon to adopt (upgrades)"
              + " (env KEEP_HAPROXY_ON_EXIT).")
  boolean keepHaproxy;

  @Override
  public Integer call() throws Exception {
    ProxyId id = store.proxyId();
    InetSocketAddress admin = address(adminAddress);
    StateDirectory.check(proxy.stateDir);
    Components components = Components.build(store, proxy);
    KeyValueSource source = components.source;
    BackendResolver resolver = components.resolver;
    ProxyConfigurator configurator = components.proxy;

    CountDownLatch stop = new CountDownLatch(1);
    Signal.handle(new Signal("TERM"), s -> stop.countDown());
    Signal.handle(new Signal("INT"), s -> stop.countDown());

    Status status = new Status();
    status.resolverCounters(resolver::counters);
    StartingProxy starting = new StartingProxy(configurator);
    Reconciler reconciler = null;
    AdminServer adminServer = null;
    int exit = ExitCode.OK;
    try {
      ForeignSettings.notes(System.getenv()).forEach(note -> LOG.warn("{}", note));
      // HAProxy starts while the keys are read and parsed; the first apply waits for it.
      starting.start();
      KeySnapshot first = null;
      try {
        first = source.read(id);
        store.v2Hint(id, first.entries().size()).ifPresent(hint -> LOG.warn("{}", hint));
      } catch (StoreException e) {
        if (e.isPermanent()) {
          LOG.error("{}", e.getMessage());
          starting.awaitStarted(); // a HAProxy that cannot start says so first, as before
          return exit = ExitCode.STORE_REFUSED;
        }
        LOG.warn("{}; serving the last good config and retrying", e.getMessage());
      }
      try {
        adminServer =
            new AdminServer(
                admin,
                status,
                new AdminServer.Page(
                    id.value(),
                    "/" + id.folder() + "/",
                    configurator::health,
                    configurator::explain),
                adminToken == null || adminToken.isBlank()
                    ? java.util.Optional.empty()
                    : java.util.Optional.of(adminToken.strip()));
      } catch (java.io.IOException e) {
        starting.awaitStarted(); // a HAProxy that cannot start says so first, as before
        LOG.error("cannot listen on the admin address {}: {}", adminAddress, e.getMessage());
        return exit = ExitCode.USAGE;
      }
      if (!admin.getAddress().isLoopbackAddress() && (adminToken == null || adminToken.isBlank())) {
        LOG.warn(
            "the admin address {} is reachable from other hosts and ADMIN_TOKEN is not set: its"
                + " page and /status show every service's hosts and backends to whoever reaches it",
            adminAddress);
      }
      reconciler =
          new Reconciler(
              id,
              source,
              resolver,
              starting,
              now ->
                  store
                      .parseOptions(now, proxy)
                      .withReservedPort(admin.getPort(), "the daemon's admin port (ADMIN_ADDRESS)"),
              new Reconciler.Timing(quietPeriod, maxDelay, resync, incremental),
              Clock.systemUTC(),
              status,
              new LastGoodFile(proxy.stateDir));
      reconciler.start(first); // its first pass parses these keys: 10,000 services are read once
      starting.awaitStarted();
      LOG.info(
          "haproxy-confd running for {}: HTTP {}:{}, admin http://{}:{}/status",
          id,
          proxy.bind,
          proxy.httpPort,
          admin.getHostString(),
          adminServer.port());
      stop.await();
      LOG.info("stopping");
      return exit;
    } catch (ProxyException e) {
      LOG.error("{}", e.getMessage());
      return exit = ExitCode.PROXY_FAILED;
    } finally {
      if (reconciler != null) {
        reconciler.close();
      }
      if (adminServer != null) {
        adminServer.close();
      }
      starting.awaitDone(); // a start still under way would leave a HAProxy behind
      if (!keepHaproxy) {
        configurator.stop();
      }
      components.close();
      LOG.info(keepHaproxy ? "stopped; HAProxy keeps serving" : "stopped, and HAProxy with it");
    }
  }

  static InetSocketAddress address(String text) {
    int colon = text.lastIndexOf(':');
    if (colon < 1) {
      throw new IllegalArgumentException("--admin-address '" + text + "' is not host:port");
    }
    try {
      return new InetSocketAddress(
          text.substring(0, colon), Integer.parseInt(text.substring(colon + 1)));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("--admin-address '" + text + "' is not host:port");
    }
  }
}
