package io.haproxyconfd.app;

import io.haproxyconfd.domain.Problem;
import io.haproxyconfd.domain.ProxyConfig;
import io.haproxyconfd.ports.ApplyResult;
import io.haproxyconfd.ports.DaemonThreads;
import io.haproxyconfd.ports.ProxyConfigurator;
import io.haproxyconfd.ports.ProxyException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

/**
 * The proxy started on a thread of its own, so that the first pass reads and parses the keys while
 * HAProxy starts (at 10,000 services, both take most of a second); an apply waits until the start
 * is over, and fails as it did.
 */
final class StartingProxy implements ProxyConfigurator {
  private final ProxyConfigurator proxy;
  private final CompletableFuture<Void> started = new CompletableFuture<>();
  private volatile boolean launched;

  StartingProxy(ProxyConfigurator proxy) {
    this.proxy = proxy;
  }

  /** Starts the proxy on its own thread and returns at once. */
  @Override
  public void start() {
    launched = true;
    DaemonThreads.create(
            "proxy-start",
            () -> {
              try {
                proxy.start();
                started.complete(null);
              } catch (ProxyException | RuntimeException e) {
                started.completeExceptionally(e);
              }
            })
        .start();
  }

  /** Waits until the proxy has started. */
  void awaitStarted() throws ProxyException {
    try {
      started.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ProxyException("interrupted while HAProxy was starting", e);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof ProxyException p) {
        throw p;
      }
      throw new ProxyException(String.valueOf(e.getCause().getMessage()), e.getCause());
    }
  }

  /** Waits until the start is over, however it ended; at once if it never began. */
  void awaitDone() {
    if (!launched) {
      return;
    }
    try {
      started.handle((ok, failed) -> null).get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException e) {
      throw new IllegalStateException(e); // handle() leaves nothing to fail
    }
  }

  @Override
  public ApplyResult apply(ProxyConfig desired) throws ProxyException {
    awaitStarted();
    return proxy.apply(desired);
  }

  @Override
  public String render(ProxyConfig config) {
    return proxy.render(config);
  }

  @Override
  public Path renderTo(ProxyConfig config, Path dir) throws IOException {
    return proxy.renderTo(config, dir);
  }

  @Override
  public List<Problem> check(ProxyConfig config) throws ProxyException {
    return proxy.check(config);
  }

  @Override
  public java.util.Map<String, List<io.haproxyconfd.ports.ServerHealth>> health(
      java.util.Collection<String> services) throws ProxyException {
    return proxy.health(services);
  }

  @Override
  public io.haproxyconfd.ports.RouteExplanation explain(
      ProxyConfig config, String host, String path) {
    return proxy.explain(config, host, path);
  }

  @Override
  public void stop() {
    proxy.stop();
  }

  @Override
  public void close() {
    proxy.close();
  }
}
