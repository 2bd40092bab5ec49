package io.haproxyconfd.it;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.haproxyconfd.adapters.haproxy.EchoBackend;
import io.haproxyconfd.adapters.haproxy.RawHttp;
import io.haproxyconfd.domain.Await;
import io.haproxyconfd.it.consul.ConsulEmulator;
import java.io.IOException;
import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * 2,000 services in Consul, keys and catalog: every one is served, an instance change in any of
 * them is served within a second, and the daemon holds fewer than 10 connections to the agent (one
 * blocking query per service would need 2,000).
 */
class ConsulScaleIT {
  private static final int SERVICES = 2_000;

  @Test
  void two_thousand_services_are_served_and_followed_over_a_few_connections() throws Exception {
    try (ConsulEmulator consul = ConsulEmulator.start(Optional.empty());
        EchoBackend a = new EchoBackend("a");
        EchoBackend b = new EchoBackend("b", InetAddress.getByName("127.0.0.2"), a.port())) {
      for (int i = 0; i < SERVICES; i++) {
        consul.put("haproxy-scale/services/s" + i + "/domain", "s" + i + ".example.org");
        consul.register(
            "s" + i, new ConsulEmulator.Instance("s" + i + "-1", "127.0.0.1", a.port(), true));
      }
      Map<String, String> env =
          Map.of(
              "HAPROXY_ID", "scale",
              "CONFD_STORE", "consul",
              "CONFD_RESOLVER", "consul",
              "CONSUL_HTTP_ADDR", consul.address());
      try (DaemonProcess d = DaemonProcess.start(env)) {
        Await.until(
            Duration.ofSeconds(60),
            d::describe,
            () -> RawHttp.get(d.http, "s" + (SERVICES - 1) + ".example.org", "/").status() == 200);
        List<Integer> unserved = new ArrayList<>();
        for (int i = 0; i < SERVICES; i++) {
          if (!RawHttp.get(d.http, "s" + i + ".example.org", "/").body().startsWith("backend=a")) {
            unserved.add(i);
          }
        }
        assertTrue(unserved.isEmpty(), "not served: " + unserved);

        // A moved instance (address), and a failing then passing one (health), in services
        // anywhere in the list.
        consul.register(
            "s1234", new ConsulEmulator.Instance("s1234-1", "127.0.0.2", a.port(), true));
        Await.until(
            Duration.ofSeconds(1),
            "s1234's moved instance served within 1 s",
            () -> RawHttp.get(d.http, "s1234.example.org", "/").body().startsWith("backend=b"));
        consul.register("s7", new ConsulEmulator.Instance("s7-2", "127.0.0.2", a.port(), true));
        Await.until(
            Duration.ofSeconds(1),
            "s7's new instance served within 1 s",
            () -> servedBy(d, "s7.example.org").equals(java.util.Set.of("backend=a", "backend=b")));
        // Only its check changes now: the catalog's service list does not move.
        consul.register("s7", new ConsulEmulator.Instance("s7-1", "127.0.0.1", a.port(), false));
        Await.until(
            Duration.ofSeconds(1),
            "s7's failing instance out within 1 s",
            () -> servedBy(d, "s7.example.org").equals(java.util.Set.of("backend=b")));

        int connections = connections(d.pid(), consul.port());
        assertTrue(connections > 0 && connections < 10, connections + " connections to Consul");
      }
    }
  }

  /** The backends six requests for {@code host} reach. */
  private static java.util.Set<String> servedBy(DaemonProcess d, String host) throws Exception {
    java.util.Set<String> seen = new java.util.TreeSet<>();
    for (int i = 0; i < 6; i++) {
      seen.add(RawHttp.get(d.http, host, "/").body().split(" ")[0]);
    }
    return seen;
  }

  /** The established TCP connections process {@code pid} holds to {@code port}, as ss sees them. */
  static int connections(long pid, int port) throws IOException, InterruptedException {
    Process ss =
        new ProcessBuilder("ss", "-Htnp", "state", "established", "( dport = :" + port + " )")
            .redirectErrorStream(true)
            .start();
    String out = new String(ss.getInputStream().readAllBytes());
    assertTrue(ss.waitFor(10, TimeUnit.SECONDS) && ss.exitValue() == 0, out);
    return (int) out.lines().filter(l -> l.contains("pid=" + pid + ",")).count();
  }
}
