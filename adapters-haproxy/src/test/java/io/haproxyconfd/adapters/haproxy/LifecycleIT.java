package io.haproxyconfd.adapters.haproxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.haproxyconfd.domain.Await;
import io.haproxyconfd.ports.ApplyResult;
import io.haproxyconfd.ports.ProxyConfigurator;
import io.haproxyconfd.ports.ProxyException;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Adoption after a daemon restart, restart after HAProxy dies. */
class LifecycleIT {
  @RegisterExtension static HaproxyFixture haproxy = new HaproxyFixture();
  static EchoBackend a;
  static EchoBackend b;

  @BeforeAll
  static void backends() throws Exception {
    a = new EchoBackend("a");
    b = new EchoBackend("b");
  }

  @AfterAll
  static void stopBackends() {
    a.close();
    b.close();
  }

  /** HAProxy's defaults in {@code state}, its listeners on free loopback ports. */
  private static HaproxySettings onFreePorts(java.nio.file.Path state) throws Exception {
    return HaproxySettings.defaults(state)
        .withPorts(
            "127.0.0.1",
            HaproxyFixture.freePort(),
            HaproxyFixture.freePort(),
            HaproxyFixture.freePort());
  }

  /** Kills HAProxy's workers and master (SIGKILL); returns the master's PID. */
  private long killHaproxy() throws Exception {
    long master = masterPid();
    for (long worker : haproxy.workers()) {
      ProcessHandle.of(worker).ifPresent(ProcessHandle::destroyForcibly);
    }
    ProcessHandle.of(master).orElseThrow().destroyForcibly();
    return master;
  }

  private long masterPid() throws Exception {
    return Long.parseLong(Files.readString(haproxy.stateDir().resolve("run/haproxy.pid")).strip());
  }

  @Test
  void a_restarted_daemon_adopts_the_running_haproxy_and_it_serves_throughout() throws Exception {
    haproxy.apply("services/web/domain", "example.org", "services/web/w1", a.backend().toString());
    long master = masterPid();
    haproxy.configurator.close();

    assertEquals(
        200, RawHttp.get(haproxy.http(), "example.org", "/").status(), "serves with no daemon");
    ProxyConfigurator second = HaproxyConfigurators.create(haproxy.settings);
    second.start();
    haproxy.configurator = second;
    assertEquals(master, masterPid(), "adopted, not a second master");
    assertEquals(200, RawHttp.get(haproxy.http(), "example.org", "/").status());
    var r =
        second.apply(
            HaproxyFixture.config(
                "services/web/domain", "example.org", "services/web/w1", a.backend().toString()));
    assertEquals(ApplyResult.Outcome.RELOADED, r.outcome(), "first apply after adoption reloads");
  }

  @Test
  void a_killed_master_is_started_again_on_the_last_good_config() throws Exception {
    haproxy.apply("services/web/domain", "example.org", "services/web/w1", a.backend().toString());
    long master = masterPid();
    for (long worker : haproxy.workers()) {
      ProcessHandle.of(worker).ifPresent(ProcessHandle::destroyForcibly);
    }
    ProcessHandle.of(master).orElseThrow().destroyForcibly();
    long killedAt = System.nanoTime();
    Await.until(
        Duration.ofSeconds(5),
        "serving again",
        () ->
            masterPid() != master
                && RawHttp.get(haproxy.http(), "example.org", "/").status() == 200);
    long ms = (System.nanoTime() - killedAt) / 1_000_000;
    System.out.println("serving again " + ms + " ms after HAProxy was killed");
  }

  @Test
  void haproxy_killed_right_after_a_runtime_change_comes_back_with_that_change() throws Exception {
    haproxy.apply("services/web/domain", "example.org", "services/web/w1", a.backend().toString());
    var moved =
        haproxy.apply(
            "services/web/domain", "example.org", "services/web/w1", b.backend().toString());
    assertEquals(ApplyResult.Outcome.RUNTIME_UPDATE, moved.outcome());
    long master = killHaproxy();
    Await.until(
        Duration.ofSeconds(5),
        "a new HAProxy serves the moved backend, though haproxy.cfg was not yet written",
        () ->
            masterPid() != master
                && RawHttp.get(haproxy.http(), "example.org", "/").body().startsWith("backend=b"));
  }

  @Test
  void haproxy_killed_right_after_a_route_change_comes_back_with_that_route() throws Exception {
    haproxy.apply("services/web/domain", "example.org", "services/web/w1", a.backend().toString());
    var added =
        haproxy.apply(
            "services/web/domain",
            "example.org,new.example.org",
            "services/web/w1",
            a.backend().toString());
    assertEquals(ApplyResult.Outcome.RUNTIME_UPDATE, added.outcome());
    long master = killHaproxy();
    Await.until(
        Duration.ofSeconds(5),
        "a new HAProxy serves the new host, though the map files were not yet written",
        () ->
            masterPid() != master
                && RawHttp.get(haproxy.http(), "new.example.org", "/")
                    .body()
                    .startsWith("backend=a"));
  }

  @Test
  void haproxy_killed_after_a_new_service_took_a_spare_comes_back_with_it_in_that_spare()
      throws Exception {
    haproxy.apply("services/web/domain", "example.org", "services/web/w1", a.backend().toString());
    String[] keys = {
      "services/web/domain",
      "example.org",
      "services/web/w1",
      a.backend().toString(),
      "services/more/domain",
      "more.example.org",
      "services/more/w1",
      b.backend().toString()
    };
    assertEquals(ApplyResult.Outcome.RUNTIME_UPDATE, haproxy.apply(keys).outcome());
    String cfg = Files.readString(haproxy.stateDir().resolve("haproxy.cfg"));
    String spare = cfg.substring(cfg.indexOf("\nbackend spare-1\n"));
    spare = spare.substring(0, spare.indexOf("\nbackend ", 1));
    assertFalse(
        spare.contains(b.backend().toString()),
        "haproxy.cfg is written a second after a runtime change, not yet: " + spare);
    long master = killHaproxy();
    Await.until(
        Duration.ofSeconds(5),
        "a new HAProxy serves the new service, though haproxy.cfg was not yet written",
        () ->
            masterPid() != master
                && RawHttp.get(haproxy.http(), "more.example.org", "/")
                    .body()
                    .startsWith("backend=b"));
    // Started from a file that names the spare as the running HAProxy did, so the next runtime
    // change of the service still finds its servers where the configurator put them.
    Await.until(Duration.ofSeconds(5), "a worker", () -> !haproxy.workers().isEmpty());
    List<Long> workers = haproxy.workers();
    keys[7] = a.backend().toString();
    assertEquals(ApplyResult.Outcome.RUNTIME_UPDATE, haproxy.apply(keys).outcome());
    assertEquals(workers, haproxy.workers(), "no reload");
    assertTrue(RawHttp.get(haproxy.http(), "more.example.org", "/").body().startsWith("backend=a"));
  }

  @Test
  void stopping_stops_haproxy_for_good_no_supervisor_check_starts_it_again() throws Exception {
    java.nio.file.Path state = java.nio.file.Files.createTempDirectory("lifecycle-stop");
    HaproxySettings settings = onFreePorts(state);
    java.nio.file.Path pidFile = state.resolve("run/haproxy.pid");
    HaproxyConfigurator c = new HaproxyConfigurator(settings);
    c.start();
    long master = Long.parseLong(java.nio.file.Files.readString(pidFile).strip());
    // The race, made certain: a supervisor check waits for the lifecycle's lock while HAProxy is
    // stopped; it used to find the master gone and start HAProxy again.
    synchronized (c.supervisor()) {
      io.haproxyconfd.domain.Await.until(
          java.time.Duration.ofSeconds(5),
          "the supervisor waiting for the lock",
          () ->
              Thread.getAllStackTraces().keySet().stream()
                  .anyMatch(
                      t ->
                          t.getName().equals("haproxy-supervisor")
                              && t.getState() == Thread.State.BLOCKED));
      c.stop();
    }
    assertFalse(HaproxyProcess.alive(master), "the master still runs");
    long until = System.nanoTime() + java.time.Duration.ofMillis(500).toNanos();
    while (System.nanoTime() < until) {
      long now = Long.parseLong(java.nio.file.Files.readString(pidFile).strip());
      boolean again = now != master && HaproxyProcess.alive(now);
      if (again) {
        ProcessHandle.of(now).ifPresent(ProcessHandle::destroy);
      }
      assertFalse(again, "HAProxy started again after the stop");
      java.util.concurrent.locks.LockSupport.parkNanos(5_000_000L); // the window's poll period
    }
  }

  /**
   * A stop that comes while an apply is checking a new config: the apply must not start HAProxy
   * again once it is stopped. An {@code haproxy} wrapper holds {@code haproxy -c} at a gate, so
   * that the stop is certain to come in the middle. The new config has a service HAProxy refuses:
   * one it takes is reloaded without {@code haproxy -c}, a refused one is then checked.
   */
  @Test
  void a_stop_during_an_apply_leaves_no_haproxy_behind() throws Exception {
    java.nio.file.Path state = Files.createTempDirectory("lifecycle-stop-apply");
    java.nio.file.Path armed = state.resolve("armed");
    java.nio.file.Path waiting = state.resolve("waiting");
    java.nio.file.Path gate = state.resolve("gate");
    HaproxySettings real = onFreePorts(state);
    java.nio.file.Path wrapper = state.resolve("haproxy-gated");
    Files.writeString(
        wrapper,
        "#!/bin/sh\n"
            + "if [ \"$1\" = -c ] && [ -e '"
            + armed
            + "' ]; then\n  touch '"
            + waiting
            + "'\n  i=0\n  while [ ! -e '"
            + gate
            + "' ] && [ $i -lt 1000 ]; do sleep 0.01; i=$((i+1)); done\nfi\nexec '"
            + real.binary()
            + "' \"$@\"\n");
    wrapper.toFile().setExecutable(true);
    HaproxySettings settings = runningAs(real, wrapper);
    java.nio.file.Path pidFile = state.resolve("run/haproxy.pid");
    ProxyConfigurator c = HaproxyConfigurators.create(settings);
    c.start();
    c.apply(HaproxyFixture.config("services/web/domain", "example.org"));
    long master = Long.parseLong(Files.readString(pidFile).strip());

    Files.createFile(armed);
    java.util.concurrent.atomic.AtomicReference<Exception> failure =
        new java.util.concurrent.atomic.AtomicReference<>();
    Thread apply =
        new Thread(
            () -> {
              try {
                c.apply(
                    HaproxyFixture.config(
                        "services/web/domain",
                        "example.org",
                        "services/blog/domain",
                        "blog.org",
                        "services/blog/custom_settings",
                        "no-such-keyword here")); // refused by the reload: then checked
              } catch (ProxyException e) {
                // Refused because HAProxy is being stopped: that is a way to get it right.
                if (!e.getMessage().contains("being stopped")) {
                  failure.set(e);
                }
              } catch (Exception e) {
                failure.set(e);
              }
            });
    apply.start();
    Await.until(Duration.ofSeconds(10), "haproxy -c at the gate", () -> Files.exists(waiting));
    Thread stop = new Thread(c::stop);
    stop.start();
    Await.until(
        Duration.ofSeconds(10),
        "the stop done, or waiting for the apply",
        () -> !stop.isAlive() || stop.getState() == Thread.State.BLOCKED);
    Files.createFile(gate);
    apply.join(30_000);
    stop.join(30_000);
    assertEquals(null, failure.get(), "the apply failed otherwise than by the stop");

    assertFalse(HaproxyProcess.alive(master), "the first master still runs");
    long last = Long.parseLong(Files.readString(pidFile).strip());
    boolean again = last != master && HaproxyProcess.alive(last);
    if (again) {
      ProcessHandle.of(last).ifPresent(ProcessHandle::destroy);
    }
    assertFalse(again, "the apply started HAProxy again after the stop (pid " + last + ")");
  }

  /**
   * An {@code haproxy} wrapper that writes each {@code haproxy -c} it is asked for to {@code
   * checks}, and while the file {@code refuseAll} exists, answers each with a refusal of the whole
   * config.
   */
  private static HaproxySettings countingChecks(
      java.nio.file.Path state, java.nio.file.Path checks, java.nio.file.Path refuseAll)
      throws Exception {
    HaproxySettings real = onFreePorts(state);
    java.nio.file.Path wrapper = state.resolve("haproxy-counted");
    Files.writeString(
        wrapper,
        "#!/bin/sh\nif [ \"$1\" = -c ]; then\n  echo \"$*\" >> '"
            + checks
            + "'\n  if [ -e '"
            + refuseAll
            + "' ]; then echo '[ALERT]    (1) : config : all of it refused'; exit 1; fi\nfi\nexec '"
            + real.binary()
            + "' \"$@\"\n");
    wrapper.toFile().setExecutable(true);
    return runningAs(real, wrapper);
  }

  /** {@code real}, with {@code binary} as the haproxy executable. */
  private static HaproxySettings runningAs(HaproxySettings real, java.nio.file.Path binary) {
    return new HaproxySettings(
        binary,
        real.stateDir(),
        real.templateDir(),
        real.bindAddress(),
        real.httpPort(),
        real.httpsPort(),
        real.statsPort(),
        real.statsPassword(),
        real.hardStopAfter(),
        real.reloadTimeout(),
        real.serving(),
        real.spareBackends());
  }

  /** Service web on backend a, blog (balance source) on b, and {@code more} keys. */
  private static io.haproxyconfd.domain.ProxyConfig webAndBlog(String... more) {
    List<String> keys =
        new java.util.ArrayList<>(
            List.of(
                "services/web/domain", "example.org",
                "services/web/w1", a.backend().toString(),
                "services/blog/domain", "blog.org",
                "services/blog/balance", "source",
                "services/blog/w1", b.backend().toString()));
    keys.addAll(List.of(more));
    return HaproxyFixture.config(keys.toArray(String[]::new));
  }

  private static String body(HaproxySettings settings, String host) throws Exception {
    return RawHttp.get(settings.httpPort(), host, "/").body().split(" ")[0];
  }

  /** The master's count of reloads, and of failed ones since the last good one, from show proc. */
  private static long[] masterReloads(java.nio.file.Path state) throws Exception {
    String out = new RuntimeApi(state.resolve("run/master.sock")).send("show proc");
    java.util.regex.Matcher m =
        java.util.regex.Pattern.compile("(?m)^\\d+\\s+master\\s+(\\d+)\\s+\\[failed:\\s*(\\d+)\\]")
            .matcher(out);
    assertTrue(m.find(), out);
    return new long[] {Long.parseLong(m.group(1)), Long.parseLong(m.group(2))};
  }

  private static long checksRun(java.nio.file.Path checks) throws Exception {
    return Files.exists(checks) ? Files.readAllLines(checks).size() : 0;
  }

  /**
   * A reload HAProxy takes is its own check: no {@code haproxy -c} runs before it, and the new
   * service is served. One HAProxy refuses (its master counts the failed reload) is checked after
   * it, the refused service left out and the rest served. Neither a refused service nor a config
   * refused as a whole stays in haproxy.cfg, so a HAProxy started again from it serves what was
   * served.
   */
  @Test
  void a_reload_haproxy_takes_runs_no_check_first_and_one_it_refuses_is_checked_after()
      throws Exception {
    java.nio.file.Path state = Files.createTempDirectory("lifecycle-unchecked");
    java.nio.file.Path checks = state.resolve("checks.log");
    java.nio.file.Path refuseAll = state.resolve("refuse-all");
    HaproxySettings settings = countingChecks(state, checks, refuseAll);
    ProxyConfigurator c = HaproxyConfigurators.create(settings);
    try {
      c.start();
      c.apply(
          HaproxyFixture.config(
              "services/web/domain", "example.org", "services/web/w1", a.backend().toString()));
      assertEquals("backend=a", body(settings, "example.org"));
      long before = checksRun(checks);

      ApplyResult own = c.apply(webAndBlog()); // blog has settings of its own: a reload
      assertEquals(ApplyResult.Outcome.RELOADED, own.outcome(), own.toString());
      assertEquals("backend=b", body(settings, "blog.org"));
      assertEquals(before, checksRun(checks), "haproxy -c ran before a reload HAProxy took");

      long[] reloadsBefore = masterReloads(state);
      ApplyResult refused =
          c.apply(
              webAndBlog(
                  "services/odd/domain", "odd.org",
                  "services/odd/custom_settings", "no-such-keyword here",
                  "services/odd/w1", b.backend().toString(),
                  "services/shop/domain", "shop.org",
                  "services/shop/balance", "source",
                  "services/shop/w1", a.backend().toString()));
      assertEquals(ApplyResult.Outcome.RELOADED, refused.outcome(), refused.toString());
      assertEquals(1, refused.problems().size(), refused.toString());
      assertEquals("services/odd", refused.problems().get(0).key());
      assertTrue(checksRun(checks) > before, "the refused config was not checked after");
      long[] reloadsAfter = masterReloads(state);
      assertEquals(
          reloadsBefore[0] + 2,
          reloadsAfter[0],
          "HAProxy reloaded once on the refused config, once on the rest");
      assertEquals(0, reloadsAfter[1], "the last reload failed");
      assertEquals("backend=a", body(settings, "shop.org"));
      assertEquals("backend=b", body(settings, "blog.org"));
      assertEquals(503, RawHttp.get(settings.httpPort(), "odd.org", "/").status());
      assertFalse(
          Files.readString(state.resolve("haproxy.cfg")).contains("no-such-keyword"),
          "haproxy.cfg keeps the refused text");

      // A config refused as a whole, after HAProxy refused to reload on it: haproxy.cfg holds
      // again exactly what HAProxy serves.
      String served = Files.readString(state.resolve("haproxy.cfg"));
      Files.createFile(refuseAll);
      ApplyResult rejected =
          c.apply(
              webAndBlog(
                  "services/shop/domain", "shop.org",
                  "services/shop/balance", "source",
                  "services/shop/w1", a.backend().toString(),
                  "services/late/domain", "late.org",
                  "services/late/w1", a.backend().toString(),
                  "services/worse/domain", "worse.org",
                  "services/worse/custom_settings", "no-such-keyword either",
                  "services/worse/w1", b.backend().toString()));
      Files.delete(refuseAll);
      assertEquals(ApplyResult.Outcome.REJECTED, rejected.outcome(), rejected.toString());
      assertEquals(served, Files.readString(state.resolve("haproxy.cfg")));
      assertEquals(503, RawHttp.get(settings.httpPort(), "late.org", "/").status());

      // HAProxy started again from haproxy.cfg, by the supervisor, serves what was served.
      long killed = Long.parseLong(Files.readString(state.resolve("run/haproxy.pid")).strip());
      for (long worker : new HaproxyProcess(settings).workers()) {
        ProcessHandle.of(worker).ifPresent(ProcessHandle::destroyForcibly);
      }
      ProcessHandle.of(killed).orElseThrow().destroyForcibly();
      Await.until(
          Duration.ofSeconds(20),
          "HAProxy started again",
          () -> {
            String pid = Files.readString(state.resolve("run/haproxy.pid")).strip();
            return !pid.equals(Long.toString(killed))
                && HaproxyProcess.alive(Long.parseLong(pid))
                && !new HaproxyProcess(settings).workers().isEmpty();
          });
      assertEquals("backend=a", body(settings, "shop.org"));
      assertEquals("backend=b", body(settings, "blog.org"));
      assertEquals(503, RawHttp.get(settings.httpPort(), "odd.org", "/").status());
      assertEquals(503, RawHttp.get(settings.httpPort(), "late.org", "/").status());
    } finally {
      c.stop();
    }
  }
}
