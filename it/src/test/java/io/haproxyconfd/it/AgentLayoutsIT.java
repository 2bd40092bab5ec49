package io.haproxyconfd.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.haproxyconfd.adapters.dns.Dnsmasq;
import io.haproxyconfd.adapters.etcd.EtcdCluster;
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
 * catalog would give: there, every service name leads to backend b, while the agent keys say a.
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
    dns.hosts("127.0.0.2 flat", "127.0.0.2 nested", "127.0.0.2 tflat", "127.0.0.2 tnested");
    int flatPort = FreePorts.next();
    int nestedPort = FreePorts.next();
    etcd.etcdctlV2("set", p + "/services/flat/domain", "flat.example.org");
    etcd.etcdctlV2("set", p + "/services/flat/port", port);
    etcd.etcdctlV2("set", p + "/services/flat/nodeA", a);
    etcd.etcdctlV2("set", p + "/services/nested/domain", "nested.example.org");
    etcd.etcdctlV2("set", p + "/services/nested/port", port);
    etcd.etcdctlV2("set", p + "/services/nested/upstreams/nodeA", a);
    etcd.etcdctlV2("set", p + "/tcp-services/tflat/external_port", Integer.toString(flatPort));
    etcd.etcdctlV2("set", p + "/tcp-services/tflat/internal_port", port);
    etcd.etcdctlV2("set", p + "/tcp-services/tflat/nodeA", a);
    etcd.etcdctlV2("set", p + "/tcp-services/tnested/ports", ":" + nestedPort);
    etcd.etcdctlV2("set", p + "/tcp-services/tnested/upstreams/nodeA", a);
    try (ConsulEmulator consul = ConsulEmulator.start(Optional.empty())) {
      for (String name : new String[] {"flat", "nested", "tflat", "tnested"}) {
        consul.register(
            name, new ConsulEmulator.Instance(name + "-1", "127.0.0.2", backends.a.port(), true));
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
            Duration.ofSeconds(10),
            d::describe,
            () ->
                served(d.http, "flat.example.org").equals("backend=a")
                    && served(d.http, "nested.example.org").equals("backend=a")
                    && served(flatPort, "db").equals("backend=a")
                    && served(nestedPort, "db").equals("backend=a"));

        // The fork README's own steps: add nodeB2, remove nodeA; in both layouts.
        etcd.etcdctlV2("set", p + "/services/flat/nodeB2", b);
        etcd.etcdctlV2("set", p + "/tcp-services/tnested/upstreams/nodeB2", b);
        etcd.etcdctlV2("rm", p + "/services/flat/nodeA");
        etcd.etcdctlV2("rm", p + "/tcp-services/tnested/upstreams/nodeA");
        Await.until(
            Duration.ofSeconds(10),
            d::describe,
            () ->
                served(d.http, "flat.example.org").equals("backend=b")
                    && served(nestedPort, "db").equals("backend=b"));
        assertEquals("backend=a", served(d.http, "nested.example.org"));
        assertEquals("backend=a", served(flatPort, "db"));
        assertEquals("", d.problems(), "no key of either layout is a problem");
      }
    }
  }

  /** Which backend answers a request on {@code port} for {@code host}, or the status. */
  private static String served(int port, String host) throws Exception {
    RawHttp.Response r = RawHttp.get(port, host, "/");
    return r.status() == 200 ? r.body().split(" ")[0] : Integer.toString(r.status());
  }
}
