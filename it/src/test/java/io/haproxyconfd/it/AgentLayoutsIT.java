package io.haproxyconfd.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.haproxyconfd.adapters.dns.Dnsmasq;
import io.haproxyconfd.adapters.etcd.EtcdCluster;
import io.haproxyconfd.adapters.haproxy.EchoBackend;
import io.haproxyconfd.adapters.haproxy.RawHttp;
import io.haproxyconfd.domain.Await;
import io.haproxyconfd.domain.FreePorts;
import io.haproxyconfd.it.consul.ConsulEmulator;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The Kontena fork's agents wrote backends in two layouts: its README put {@code <instance>}
 * directly under the service, its template read {@code upstreams/<instance>}, and its TCP services
 * listened on a {@code ports} key. Both layouts serve HTTP and TCP in every resolver mode, with the
 * keys in etcd's v2 API as the fork wrote them, and agent keys win over what DNS or Consul's
 * catalog would give: there every name leads to backend c, which no agent key names.
 */
class AgentLayoutsIT {
  @RegisterExtension static EtcdCluster etcd = EtcdCluster.of(1);
  @RegisterExtension static Dnsmasq dns = Dnsmasq.withTtl(1);
  @RegisterExtension static TwoBackends backends = new TwoBackends();

  @ParameterizedTest
  @ValueSource(strings = {"dns", "keys", "consul"})
  void both_agent_key_layouts_serve_http_and_tcp(String resolver) throws Exception {
    String a = backends.a.backend().toString();
    String b = backends.b.backend().toString();
    String port = Integer.toString(backends.a.port());
    String p = "/haproxy-layouts-" + resolver;
    // DNS and Consul's catalog lead to c, which no agent key names: c answering means discovery
    // won over the agent's keys.
    dns.hosts("127.0.0.3 flat", "127.0.0.3 nested", "127.0.0.3 tflat", "127.0.0.3 tnested");
    int flatPort = FreePorts.next();
    int nestedPort = FreePorts.next();
    Map<String, String> instances =
        Map.of(
            "services/flat", "",
            "services/nested", "upstreams/",
            "tcp-services/tflat", "",
            "tcp-services/tnested", "upstreams/");
    etcd.etcdctlV2("set", p + "/services/flat/domain", "flat.example.org");
    etcd.etcdctlV2("set", p + "/services/flat/port", port);
    etcd.etcdctlV2("set", p + "/services/nested/domain", "nested.example.org");
    etcd.etcdctlV2("set", p + "/services/nested/port", port);
    etcd.etcdctlV2("set", p + "/tcp-services/tflat/external_port", Integer.toString(flatPort));
    etcd.etcdctlV2("set", p + "/tcp-services/tflat/internal_port", port);
    etcd.etcdctlV2("set", p + "/tcp-services/tnested/ports", ":" + nestedPort);
    for (var e : instances.entrySet()) {
      etcd.etcdctlV2("set", p + "/" + e.getKey() + "/" + e.getValue() + "nodeA", a);
    }
    try (ConsulEmulator consul = ConsulEmulator.start(Optional.empty());
        EchoBackend c =
            new EchoBackend("c", java.net.InetAddress.getByName("127.0.0.3"), backends.a.port())) {
      for (String name : new String[] {"flat", "nested", "tflat", "tnested"}) {
        consul.register(
            name, new ConsulEmulator.Instance(name + "-1", "127.0.0.3", backends.a.port(), true));
      }
      Map<String, String> env =
          DaemonProcess.env(
              "HAPROXY_ID",
              "layouts-" + resolver,
              "ETCD_NODE",
              etcd.endpoints(),
              "ETCD_API",
              "2",
              "DNS_SERVERS",
              "127.0.0.1:" + dns.address().getPort(),
              "CONFD_RESOLVER",
              resolver,
              "CONSUL_HTTP_ADDR",
              consul.address());
      try (DaemonProcess d = DaemonProcess.start(env)) {
        Await.until(
            Duration.ofSeconds(10), d::describe, () -> allServedBy(d, flatPort, nestedPort, "a"));

        // The fork README's own steps, in both layouts, HTTP and TCP: add nodeB2, remove nodeA.
        for (var e : instances.entrySet()) {
          etcd.etcdctlV2("set", p + "/" + e.getKey() + "/" + e.getValue() + "nodeB2", b);
          etcd.etcdctlV2("rm", p + "/" + e.getKey() + "/" + e.getValue() + "nodeA");
        }
        Await.until(
            Duration.ofSeconds(10), d::describe, () -> allServedBy(d, flatPort, nestedPort, "b"));
        assertEquals("", d.problems(), "no key of either layout is a problem");
      }
    }
  }

  /**
   * Whether six requests to each of the four services all reach {@code backend}: one good answer
   * could be luck of the round robin.
   */
  private static boolean allServedBy(DaemonProcess d, int flatPort, int nestedPort, String backend)
      throws Exception {
    String want = "backend=" + backend;
    for (int i = 0; i < 6; i++) {
      if (!served(d.http, "flat.example.org").equals(want)
          || !served(d.http, "nested.example.org").equals(want)
          || !served(flatPort, "db").equals(want)
          || !served(nestedPort, "db").equals(want)) {
        return false;
      }
    }
    return true;
  }

  /** Which backend answers a request on {@code port} for {@code host}, or the status. */
  private static String served(int port, String host) throws Exception {
    RawHttp.Response r = RawHttp.get(port, host, "/");
    return r.status() == 200 ? r.body().split(" ")[0] : Integer.toString(r.status());
  }
}
