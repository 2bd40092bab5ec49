package io.haproxyconfd.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.ecwid.consul.v1.ConsulClient;
import io.haproxyconfd.adapters.haproxy.EchoBackend;
import io.haproxyconfd.adapters.haproxy.RawHttp;
import io.haproxyconfd.domain.Await;
import io.haproxyconfd.it.consul.ConsulEmulator;
import java.net.InetAddress;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * The product with Consul: keys in Consul KV, backends from the catalog's passing instances. Runs
 * against the Consul emulator (Consul has no Debian package).
 */
class ConsulProductIT {
  @Test
  void consul_kv_and_catalog_route_requests_and_follow_instance_changes() throws Exception {
    try (ConsulEmulator consul = ConsulEmulator.start(Optional.empty());
        EchoBackend a = new EchoBackend("a");
        EchoBackend b = new EchoBackend("b", InetAddress.getByName("127.0.0.2"), a.port())) {
      String[] hp = consul.address().split(":");
      ConsulClient writer = new ConsulClient(hp[0], Integer.parseInt(hp[1]));
      writer.setKVValue("haproxy-c1/services/api/domain", "api.example.org");
      writer.setKVValue(
          "haproxy-c1/tcp-services/raw/external_port",
          Integer.toString(io.haproxyconfd.domain.FreePorts.next()));
      consul.register("api", new ConsulEmulator.Instance("api-1", "127.0.0.1", a.port(), true));
      consul.register("api", new ConsulEmulator.Instance("api-2", "127.0.0.2", a.port(), false));
      Map<String, String> env =
          Map.of(
              "HAPROXY_ID", "c1",
              "CONFD_STORE", "consul",
              "CONFD_RESOLVER", "consul",
              "CONSUL_HTTP_ADDR", consul.address());
      try (DaemonProcess d = DaemonProcess.start(env)) {
        Await.until(
            Duration.ofSeconds(10),
            d::describe,
            () -> RawHttp.get(d.http, "api.example.org", "/").body().startsWith("backend=a"));
        consul.register("api", new ConsulEmulator.Instance("api-1", "127.0.0.1", a.port(), false));
        consul.register("api", new ConsulEmulator.Instance("api-2", "127.0.0.2", a.port(), true));
        Await.until(
            Duration.ofSeconds(10),
            d::describe,
            () -> RawHttp.get(d.http, "api.example.org", "/").body().startsWith("backend=b"));
        // HAProxy may serve the change a moment before the daemon has counted it.
        Await.until(
            Duration.ofSeconds(5),
            "an instance change applied through the runtime API",
            () -> d.metric("haproxy_confd_applies_total{outcome=\"runtime_update\"}") >= 1);
        long reloads = d.metric("haproxy_confd_applies_total{outcome=\"reloaded\"}");
        assertTrue(
            d.status().contains("tcp-services/raw: raw has no passing instance in Consul"),
            d.status());
        assertEquals(1, reloads, "only the first config was a reload");
        writer.deleteKVValues("haproxy-c1/services/api/");
        Await.until(
            Duration.ofSeconds(10),
            d::describe,
            () -> RawHttp.get(d.http, "api.example.org", "/").status() == 503);
        assertEquals(0, d.stop(), d.describe());
      }
    }
  }

  /**
   * An ACL that hides the catalog from the proxy's token never empties the proxy: {@code check}
   * exits 4 naming the token, and a running daemon keeps serving what it served until the token may
   * read again.
   */
  @Test
  void a_token_that_may_not_read_the_catalog_never_empties_the_proxy() throws Exception {
    try (ConsulEmulator consul =
            ConsulEmulator.withAcls(Map.of("proxy", ConsulEmulator.Policy.ALL));
        EchoBackend a = new EchoBackend("a");
        EchoBackend b = new EchoBackend("b", InetAddress.getByName("127.0.0.2"), a.port())) {
      String[] hp = consul.address().split(":");
      ConsulClient writer = new ConsulClient(hp[0], Integer.parseInt(hp[1]));
      writer.setKVValue("haproxy-acl/services/api/domain", "api.example.org", "proxy", null, null);
      consul.register("api", new ConsulEmulator.Instance("api-1", "127.0.0.1", a.port(), true));
      Map<String, String> env =
          Map.of(
              "HAPROXY_ID", "acl",
              "CONFD_STORE", "consul",
              "CONFD_RESOLVER", "consul",
              "CONSUL_HTTP_ADDR", consul.address(),
              "CONSUL_HTTP_TOKEN", "proxy");
      ConsulEmulator.Policy kvOnly = new ConsulEmulator.Policy(List.of(""), false);
      try (DaemonProcess d = DaemonProcess.start(env)) {
        d.awaitServed("api.example.org", "backend=a", Duration.ofSeconds(10));

        consul.setPolicy("proxy", kvOnly);
        InProcessCli check =
            InProcessCli.run(
                "check",
                "--haproxy-id",
                "acl",
                "--store",
                "consul",
                "--resolver",
                "consul",
                "--consul-address",
                consul.address(),
                "--consul-token",
                "proxy");
        assertEquals(4, check.status(), check.out());
        assertTrue(
            check.out().contains("services/api") && check.out().contains("CONSUL_HTTP_TOKEN"),
            check.out());

        // The instance moves while the token may not see it: passes fail, nothing is applied,
        // and HAProxy keeps serving a.
        long applied = applies(d);
        long failures = d.metric("haproxy_confd_apply_failures_total");
        consul.register("api", new ConsulEmulator.Instance("api-1", "127.0.0.2", a.port(), true));
        Await.until(
            Duration.ofSeconds(10),
            d::describe,
            () ->
                d.metric("haproxy_confd_apply_failures_total") >= failures + 2
                    && d.status().contains("CONSUL_HTTP_TOKEN"));
        assertEquals(applied, applies(d), "nothing applied while the catalog is hidden");
        for (int i = 0; i < 5; i++) {
          RawHttp.Response r = RawHttp.get(d.http, "api.example.org", "/");
          assertEquals("backend=a", r.body().split(" ")[0], "the last good config serves");
        }

        consul.setPolicy("proxy", ConsulEmulator.Policy.ALL);
        d.awaitServed("api.example.org", "backend=b", Duration.ofSeconds(20));
      }
    }
  }

  /** Applies of any outcome but "unchanged" so far. */
  private static long applies(DaemonProcess d) throws Exception {
    long n = 0;
    for (String outcome : List.of("reloaded", "runtime_update", "rejected")) {
      n += d.metric("haproxy_confd_applies_total{outcome=\"" + outcome + "\"}");
    }
    return n;
  }
}
