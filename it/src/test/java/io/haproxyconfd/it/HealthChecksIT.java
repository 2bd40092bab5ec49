package io.haproxyconfd.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.haproxyconfd.adapters.etcd.EtcdCluster;
import io.haproxyconfd.adapters.haproxy.EchoBackend;
import io.haproxyconfd.adapters.haproxy.HaproxySocket;
import io.haproxyconfd.adapters.haproxy.RawHttp;
import io.haproxyconfd.domain.Await;
import io.haproxyconfd.domain.FreePorts;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A backend that is listed but dead costs no request: every server is health-checked, and a request
 * that meets a dead server before its check does is retried on a live one. Checked through the
 * daemon, with HAProxy's own view of its servers.
 */
class HealthChecksIT {
  @RegisterExtension static EtcdCluster etcd = EtcdCluster.of(1);
  @RegisterExtension static TwoBackends backends = new TwoBackends();

  static final Duration INTERVAL = Duration.ofMillis(300);
  static final int FALL = 3;

  static DaemonProcess start(String id) throws Exception {
    return start(id, INTERVAL.toMillis() + "ms");
  }

  static DaemonProcess start(String id, String interval) throws Exception {
    return DaemonProcess.start(
        Map.of(
            "HAPROXY_ID",
            id,
            "ETCD_NODE",
            etcd.endpoints(),
            "CONFD_RESOLVER",
            "keys",
            "CHECK_INTERVAL",
            interval));
  }

  /** HAProxy's count of requests it redispatched to another server ({@code wredis}). */
  static long redispatched(DaemonProcess d, String backend) throws Exception {
    String[] header = null;
    for (String line : new HaproxySocket(d.stateDir).send("show stat").split("\n")) {
      String[] f = line.split(",", -1);
      if (line.startsWith("# ")) {
        header = line.substring(2).split(",", -1);
      } else if (header != null && f.length > 1 && f[0].equals(backend) && f[1].equals("BACKEND")) {
        return Long.parseLong(f[java.util.Arrays.asList(header).indexOf("wredis")]);
      }
    }
    throw new AssertionError("no stats for " + backend);
  }

  static HaproxySocket.Server slot(DaemonProcess d, String backend, String endpoint)
      throws Exception {
    return new HaproxySocket(d.stateDir)
        .servers(backend).stream()
            .filter(s -> s.filled() && s.endpoint().equals(endpoint))
            .findFirst()
            .orElseThrow(() -> new AssertionError("no slot of " + backend + " holds " + endpoint));
  }

  /**
   * Sends {@code count} requests one after another; returns how the failed ones went. Stops at the
   * tenth failure: a failed request can take seconds, and ten say enough.
   */
  static List<String> failures(int port, String host, int count) {
    List<String> failed = new ArrayList<>();
    for (int i = 0; i < count && failed.size() < 10; i++) {
      try {
        int status = RawHttp.get(port, host, "/").status();
        if (status != 200) {
          failed.add("status " + status);
        }
      } catch (Exception e) {
        failed.add(e.toString());
      }
    }
    return failed;
  }

  @Test
  void a_listed_backend_that_refuses_connections_costs_no_request_and_haproxy_marks_it_down()
      throws Exception {
    String dead = "127.0.0.1:" + FreePorts.next(); // nothing listens there
    String live = backends.a.backend().toString();
    int tcpPort = FreePorts.next();
    EtcdWrites.put(etcd.client(), "/haproxy-checks/services/web/domain", "web.example.org");
    EtcdWrites.put(etcd.client(), "/haproxy-checks/services/web/w1", live);
    EtcdWrites.put(etcd.client(), "/haproxy-checks/services/web/w2", dead);
    EtcdWrites.put(etcd.client(), "/haproxy-checks/tcp-services/db/external_port", "" + tcpPort);
    EtcdWrites.put(etcd.client(), "/haproxy-checks/tcp-services/db/d1", live);
    EtcdWrites.put(etcd.client(), "/haproxy-checks/tcp-services/db/d2", dead);
    try (DaemonProcess d = start("checks")) {
      d.awaitServed("web.example.org", "backend=a", Duration.ofSeconds(10));

      assertEquals(List.of(), failures(d.http, "web.example.org", 2_000), "HTTP");
      assertEquals(List.of(), failures(tcpPort, "web.example.org", 2_000), "TCP");

      Await.until(
          Duration.ofSeconds(5),
          "HAProxy holds the dead server DOWN and the live one UP",
          () ->
              !slot(d, "http-web", dead).up()
                  && !slot(d, "tcp-db", dead).up()
                  && slot(d, "http-web", live).up()
                  && slot(d, "tcp-db", live).up());
    }
  }

  @Test
  void a_request_that_meets_a_dead_server_before_its_check_does_is_retried_on_a_live_one()
      throws Exception {
    EchoBackend victim = new EchoBackend("victim");
    String dying = victim.backend().toString();
    String live = backends.a.backend().toString();
    int tcpPort = FreePorts.next();
    EtcdWrites.put(etcd.client(), "/haproxy-retry/services/web/domain", "retry.example.org");
    EtcdWrites.put(etcd.client(), "/haproxy-retry/services/web/w1", live);
    EtcdWrites.put(etcd.client(), "/haproxy-retry/services/web/w2", dying);
    EtcdWrites.put(etcd.client(), "/haproxy-retry/tcp-services/db/external_port", "" + tcpPort);
    EtcdWrites.put(etcd.client(), "/haproxy-retry/tcp-services/db/d1", live);
    EtcdWrites.put(etcd.client(), "/haproxy-retry/tcp-services/db/d2", dying);
    // Checks an hour apart: after its first good check the victim stays UP in HAProxy once it is
    // dead, so requests meet it and only retries and redispatch save them.
    try (DaemonProcess d = start("retry", "1h")) {
      d.awaitServed("retry.example.org", "backend=", Duration.ofSeconds(10));
      Await.until(
          Duration.ofSeconds(10),
          "the victim UP in HAProxy",
          () -> slot(d, "http-web", dying).up() && slot(d, "tcp-db", dying).up());
      victim.close();
      assertEquals(List.of(), failures(d.http, "retry.example.org", 2_000), "HTTP");
      assertEquals(List.of(), failures(tcpPort, "retry.example.org", 2_000), "TCP");
      assertTrue(
          slot(d, "http-web", dying).up() && slot(d, "tcp-db", dying).up(),
          "HAProxy still holds the dead server UP: no check took it out");
      assertTrue(redispatched(d, "http-web") > 0, "HAProxy redispatched HTTP requests");
      assertTrue(redispatched(d, "tcp-db") > 0, "HAProxy redispatched TCP connections");
    } finally {
      victim.close();
    }
  }

  @Test
  void a_backend_killed_under_traffic_stops_failing_within_interval_times_fall() throws Exception {
    EchoBackend doomed = new EchoBackend("doomed");
    String doomedAt = doomed.backend().toString();
    EtcdWrites.put(etcd.client(), "/haproxy-kill/services/web/domain", "kill.example.org");
    EtcdWrites.put(etcd.client(), "/haproxy-kill/services/web/w1", backends.a.backend().toString());
    EtcdWrites.put(etcd.client(), "/haproxy-kill/services/web/w2", doomedAt);
    long lastFailure;
    try (DaemonProcess d = start("kill")) {
      d.awaitServed("kill.example.org", "backend=", Duration.ofSeconds(10));
      Await.until(Duration.ofSeconds(5), "both UP", () -> slot(d, "http-web", doomedAt).up());
      long killed;
      long down;
      Traffic.Counts counts;
      try (Traffic traffic = Traffic.start(d.http, "kill.example.org")) {
        Await.until(Duration.ofSeconds(10), "traffic flows", () -> traffic.ok() > 200);
        killed = System.nanoTime();
        doomed.close();
        Await.until(
            Duration.ofSeconds(5),
            "HAProxy marks it DOWN",
            () -> !slot(d, "http-web", doomedAt).up());
        down = System.nanoTime();
        long okAtDown = traffic.ok();
        Await.until(Duration.ofSeconds(10), "traffic after", () -> traffic.ok() > okAtDown + 500);
        counts = traffic.stop();
        lastFailure = traffic.lastFailureNanos();
      }
      Duration bound = INTERVAL.multipliedBy(FALL).plusMillis(700);
      assertTrue(
          Duration.ofNanos(down - killed).compareTo(bound) <= 0,
          "DOWN after " + Duration.ofNanos(down - killed).toMillis() + " ms; bound " + bound);
      assertTrue(
          lastFailure == 0 || Duration.ofNanos(lastFailure - killed).compareTo(bound) <= 0,
          "a request failed "
              + Duration.ofNanos(lastFailure - killed).toMillis()
              + " ms after the kill: "
              + counts);
    }
  }
}
