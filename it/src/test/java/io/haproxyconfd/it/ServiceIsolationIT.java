package io.haproxyconfd.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.haproxyconfd.adapters.etcd.EtcdCluster;
import io.haproxyconfd.adapters.haproxy.HaproxySocket;
import io.haproxyconfd.adapters.haproxy.RawHttp;
import io.haproxyconfd.domain.Await;
import java.nio.file.Files;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Bad input costs only what it touches, through the daemon: a service HAProxy refuses is the only
 * one out and comes back as soon as it is fixed; a clash costs only the clashing route; a typo in a
 * serving service keeps its last good version serving, across a restart too.
 */
class ServiceIsolationIT {
  @RegisterExtension static EtcdCluster etcd = EtcdCluster.of(1);
  @RegisterExtension static TwoBackends backends = new TwoBackends();

  static Map<String, String> env(String id, String... more) {
    Map<String, String> env = DaemonProcess.env(more);
    env.put("HAPROXY_ID", id);
    env.put("ETCD_NODE", etcd.endpoints());
    env.putIfAbsent("CONFD_RESOLVER", "keys");
    env.put("ALLOW_CUSTOM_SETTINGS", "true");
    return env;
  }

  static void put(String key, String value) throws Exception {
    EtcdWrites.put(etcd.client(), key, value);
  }

  static String answer(DaemonProcess d, String host) throws Exception {
    RawHttp.Response r = RawHttp.get(d.http, host, "/");
    return r.status() == 200 ? r.body().split(" ")[0] : Integer.toString(r.status());
  }

  /**
   * The hostile values reached no file the daemon wrote (config, maps, certificates, state) and no
   * map HAProxy holds.
   */
  static void assertNothingInjected(DaemonProcess d) throws Exception {
    try (var files = Files.walk(d.stateDir)) {
      for (var f : files.filter(Files::isRegularFile).toList()) {
        if (f.getFileName().toString().endsWith(".sock")) {
          continue;
        }
        String text = Files.readString(f, java.nio.charset.StandardCharsets.ISO_8859_1);
        assertFalse(text.contains("6.6.6.6") || text.contains("evil"), f + ":\n" + text);
      }
    }
    HaproxySocket haproxy = new HaproxySocket(d.stateDir);
    for (String line : haproxy.send("show map").split("\n")) {
      if (line.contains(".map")) {
        String file = line.split("\\s+")[1];
        String entries = haproxy.send("show map " + file);
        assertFalse(entries.contains("6.6.6.6") || entries.contains("evil"), file + ": " + entries);
      }
    }
  }

  @Test
  void a_refused_service_is_the_only_one_out_and_comes_back_when_fixed_or_deleted()
      throws Exception {
    String a = backends.a.backend().toString();
    // Accepted with a [WARNING] that names its line: it must not be taken for the culprit.
    put("/haproxy-refuse/services/warned/domain", "warned.example.org");
    put("/haproxy-refuse/services/warned/w1", a);
    put("/haproxy-refuse/services/warned/custom_settings", "option httplog");
    put("/haproxy-refuse/services/bad/domain", "bad.example.org");
    put("/haproxy-refuse/services/bad/w1", a);
    put("/haproxy-refuse/services/bad/custom_settings", "no-such-keyword 1");
    put("/haproxy-refuse/services/serving/domain", "serving.example.org");
    put("/haproxy-refuse/services/serving/w1", a);
    try (DaemonProcess d = DaemonProcess.start(env("refuse"))) {
      d.awaitServed("warned.example.org", "backend=a", Duration.ofSeconds(10));
      d.awaitServed("serving.example.org", "backend=a", Duration.ofSeconds(10));
      assertEquals("503", answer(d, "bad.example.org"));
      String status = d.problems();
      assertTrue(status.contains("services/bad: HAProxy refused it"), status);
      assertFalse(status.contains("services/warned"), status);

      put("/haproxy-refuse/services/bad/custom_settings", "timeout server 30s");
      long fixed = System.nanoTime();
      d.awaitServed("bad.example.org", "backend=a", Duration.ofSeconds(1));
      System.out.printf(
          "fixed service served after %d ms%n", (System.nanoTime() - fixed) / 1_000_000);
      Await.until(
          Duration.ofSeconds(5),
          "the problem leaves /status and the log says it is served again",
          () ->
              !d.problems().contains("services/bad")
                  && Files.readString(d.log).contains("services/bad is accepted by HAProxy"));

      // A serving service whose new version HAProxy refuses keeps serving the one it had.
      put("/haproxy-refuse/services/serving/custom_settings", "no-such-keyword 2");
      Await.until(
          Duration.ofSeconds(5),
          d::describe,
          () -> d.problems().contains("services/serving: HAProxy refused it"));
      assertEquals("backend=a", answer(d, "serving.example.org"));
      assertTrue(d.problems().contains("its last good version keeps serving"), d.problems());

      put("/haproxy-refuse/services/bad/custom_settings", "no-such-keyword 3");
      Await.until(Duration.ofSeconds(5), d::describe, () -> d.problems().contains("services/bad:"));
      EtcdWrites.deletePrefix(etcd.client(), "/haproxy-refuse/services/bad/");
      Await.until(Duration.ofSeconds(5), d::describe, () -> !d.problems().contains("services/bad"));
      assertEquals("backend=a", answer(d, "warned.example.org"));
    }
  }

  @Test
  void a_clash_takes_away_only_the_clashing_route_and_names_both_keys() throws Exception {
    put("/haproxy-clash/services/first/domain", "shared.example.org");
    put("/haproxy-clash/services/first/w1", backends.a.backend().toString());
    put("/haproxy-clash/services/second/domain", "shared.example.org,own.example.org");
    put("/haproxy-clash/services/second/w1", backends.b.backend().toString());
    try (DaemonProcess d = DaemonProcess.start(env("clash"))) {
      d.awaitServed("own.example.org", "backend=b", Duration.ofSeconds(10));
      assertEquals("backend=a", answer(d, "shared.example.org"));
      String expected =
          "route 'shared.example.org' of services/second/domain is already served through"
              + " services/first/domain";
      assertTrue(d.problems().contains(expected), d.problems());
      Await.until(
          Duration.ofSeconds(5),
          "the log names both",
          () -> Files.readString(d.log).contains(expected));
    }
  }

  @Test
  void a_typo_in_a_serving_service_keeps_its_last_good_version_across_a_restart() throws Exception {
    String a = backends.a.backend().toString();
    put("/haproxy-typo/services/live/domain", "live.example.org");
    put("/haproxy-typo/services/live/w1", a);
    Map<String, String> env = env("typo", "KEEP_HAPROXY_ON_EXIT", "true");
    DaemonProcess first = DaemonProcess.start(env);
    DaemonProcess second = null;
    try {
      first.awaitServed("live.example.org", "backend=a", Duration.ofSeconds(10));
      Traffic traffic = Traffic.start(first.http, "live.example.org");
      Await.until(Duration.ofSeconds(10), "traffic", () -> traffic.ok() > 100);

      put("/haproxy-typo/services/live/domain", "live.example.org\n  server evil 6.6.6.6:80");
      put("/haproxy-typo/services/live/w1", a + " check addr 6.6.6.6");
      Await.until(
          Duration.ofSeconds(5),
          first::describe,
          () ->
              first.problems().contains("services/live/domain")
                  && first.problems().contains("services/live/w1")
                  && first.metric("haproxy_confd_services_on_last_good_version") == 1);
      assertTrue(
          first.problems().contains("its last good version keeps serving"), first.problems());

      first.stop();
      DaemonProcess d = second = DaemonProcess.restart(first);
      Await.until(
          Duration.ofSeconds(10),
          d::describe,
          () -> d.metric("haproxy_confd_services_on_last_good_version") == 1);
      long okNow = traffic.ok();
      Await.until(Duration.ofSeconds(10), "traffic after", () -> traffic.ok() > okNow + 200);
      assertNothingInjected(d);
      for (HaproxySocket.Server s : new HaproxySocket(d.stateDir).servers("http-live")) {
        assertTrue(!s.filled() || s.endpoint().equals(a), s.toString());
      }

      put("/haproxy-typo/services/live/domain", "live.example.org,fixed.example.org");
      put("/haproxy-typo/services/live/w1", backends.b.backend().toString());
      d.awaitServed("fixed.example.org", "backend=b", Duration.ofSeconds(5));
      Await.until(
          Duration.ofSeconds(5),
          d::describe,
          () -> d.metric("haproxy_confd_services_on_last_good_version") == 0);
      traffic.stop().assertNoneFailed();
    } finally {
      DaemonProcess last = second == null ? first : second;
      long master = last.masterPid();
      first.close();
      last.close();
      // KEEP_HAPROXY_ON_EXIT left it serving: stop the HAProxy this test's daemon started.
      ProcessHandle.of(master).ifPresent(ProcessHandle::destroy);
    }
  }
}
