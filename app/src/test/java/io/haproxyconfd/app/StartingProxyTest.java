package io.haproxyconfd.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.haproxyconfd.domain.Problem;
import io.haproxyconfd.domain.ProxyConfig;
import io.haproxyconfd.ports.ApplyResult;
import io.haproxyconfd.ports.ProxyConfigurator;
import io.haproxyconfd.ports.ProxyException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;

/** HAProxy starts on its own thread; nothing is applied to it before its start is over. */
class StartingProxyTest {
  /** A proxy whose start waits at a gate, and that records whether it was started. */
  static final class Gated implements ProxyConfigurator {
    final CountDownLatch gate = new CountDownLatch(1);
    volatile boolean started;
    volatile ProxyException failure;

    @Override
    public void start() throws ProxyException {
      try {
        gate.await();
      } catch (InterruptedException e) {
        throw new ProxyException("interrupted", e);
      }
      if (failure != null) {
        throw failure;
      }
      started = true;
    }

    @Override
    public ApplyResult apply(ProxyConfig desired) {
      assertTrue(started, "applied before the start was over");
      return new ApplyResult(ApplyResult.Outcome.RELOADED, desired.revision(), List.of(), "ok");
    }

    @Override
    public String render(ProxyConfig config) {
      return "";
    }

    @Override
    public Path renderTo(ProxyConfig config, Path dir) {
      return dir;
    }

    @Override
    public List<Problem> check(ProxyConfig config) {
      return List.of();
    }

    @Override
    public java.util.Map<String, List<io.haproxyconfd.ports.ServerHealth>> health(
        java.util.Collection<String> services) {
      return java.util.Map.of();
    }

    @Override
    public io.haproxyconfd.ports.RouteExplanation explain(
        ProxyConfig config, String host, String path) {
      throw new UnsupportedOperationException();
    }

    @Override
    public void stop() {}

    @Override
    public void close() {}
  }

  @Test
  void an_apply_waits_for_the_start_and_a_failed_start_fails_it() throws Exception {
    Gated proxy = new Gated();
    StartingProxy starting = new StartingProxy(proxy);
    starting.start();
    CompletableFuture<ApplyResult> applied =
        CompletableFuture.supplyAsync(
            () -> {
              try {
                return starting.apply(ProxyConfig.EMPTY);
              } catch (ProxyException e) {
                throw new IllegalStateException(e);
              }
            });
    assertThrows(TimeoutException.class, () -> applied.get(200, TimeUnit.MILLISECONDS));
    proxy.gate.countDown();
    assertEquals(ApplyResult.Outcome.RELOADED, applied.get(5, TimeUnit.SECONDS).outcome());

    Gated broken = new Gated();
    broken.failure = new ProxyException("haproxy: not found", null);
    StartingProxy failing = new StartingProxy(broken);
    failing.start();
    broken.gate.countDown();
    ProxyException e = assertThrows(ProxyException.class, () -> failing.apply(ProxyConfig.EMPTY));
    assertEquals("haproxy: not found", e.getMessage());
    failing.awaitDone();
    assertFalse(broken.started);
  }

  @Test
  void waiting_for_a_start_that_never_began_returns_at_once() {
    new StartingProxy(new Gated()).awaitDone();
  }
}
