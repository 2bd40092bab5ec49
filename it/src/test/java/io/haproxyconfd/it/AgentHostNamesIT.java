package io.haproxyconfd.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.haproxyconfd.adapters.dns.Dnsmasq;
import io.haproxyconfd.adapters.etcd.EtcdCluster;
import io.haproxyconfd.adapters.haproxy.EchoBackend;
import io.haproxyconfd.adapters.haproxy.RawHttp;
import io.haproxyconfd.domain.Await;
import io.haproxyconfd.domain.FreePorts;
import io.haproxyconfd.it.consul.ConsulEmulator;
import java.net.InetAddress;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Agent keys naming host:port, resolved once through DNS when the operator allows it, in every
 * resolver mode. DNS and Consul's catalog lead the services' own names to backend c, which no agent
 * key names: c answering means discovery won over the agent's keys.
 */
class AgentHostNamesIT {
  @RegisterExtension static EtcdCluster etcd = EtcdCluster.of(1);
  @RegisterExtension static Dnsmasq dns = Dnsmasq.withTtl(1);

  @ParameterizedTest
  @ValueSource(strings = {"dns", "keys", "consul"})
  void a_named_agent_backend_is_resolved_and_served(String resolver) throws Exception {
    try (EchoBackend a = new EchoBackend("a");
        EchoBackend c = new EchoBackend("c", InetAddress.getByName("127.0.0.3"), a.port());
        ConsulEmulator consul = ConsulEmulator.start(Optional.empty())) {
      dns.hosts("127.0.0.1 ghost-1.internal", "127.0.0.3 ghost", "127.0.0.3 tghost");
      for (String name : new String[] {"ghost", "tghost"}) {
        consul.register(
            name, new ConsulEmulator.Instance(name + "-1", "127.0.0.3", a.port(), true));
      }
      String p = "/haproxy-names-" + resolver;
      String named = "ghost-1.internal:" + a.port();
      int tcpPort = FreePorts.next();
      etcd.etcdctl("put", p + "/services/ghost/domain", "blog.example.org");
      etcd.etcdctl("put", p + "/services/ghost/port", Integer.toString(a.port()));
      etcd.etcdctl("put", p + "/services/ghost/ghost-1", named);
      etcd.etcdctl("put", p + "/tcp-services/tghost/external_port", Integer.toString(tcpPort));
      etcd.etcdctl("put", p + "/tcp-services/tghost/internal_port", Integer.toString(a.port()));
      etcd.etcdctl("put", p + "/tcp-services/tghost/upstreams/tghost-1", named);
      Map<String, String> env =
          DaemonProcess.env(
              "HAPROXY_ID",
              "names-" + resolver,
              "ETCD_NODE",
              etcd.endpoints(),
              "CONFD_RESOLVER",
              resolver,
              "AGENT_HOST_NAMES",
              "true",
              "DNS_SERVERS",
              "127.0.0.1:" + dns.address().getPort(),
              "CONSUL_HTTP_ADDR",
              consul.address());
      try (DaemonProcess d = DaemonProcess.start(env)) {
        Set<String> onlyA = Set.of("127.0.0.1:" + a.port());
        Await.until(
            Duration.ofSeconds(10),
            d::describe,
            () ->
                onlyA.equals(HaproxyView.of(d).servers().get("http-ghost"))
                    && onlyA.equals(HaproxyView.of(d).servers().get("tcp-tghost")));
        for (int i = 0; i < 6; i++) {
          assertEquals("backend=a", served(d.http, "blog.example.org"), d.describe());
          assertEquals("backend=a", served(tcpPort, "db"), d.describe());
        }
        assertEquals(0, d.stop(), d.describe());
      }
    }
  }

  /** Which backend answers a request on {@code port} for {@code host}, or the status. */
  private static String served(int port, String host) throws Exception {
    RawHttp.Response r = RawHttp.get(port, host, "/");
    return r.status() == 200 ? r.body().split(" ")[0] : Integer.toString(r.status());
  }
}
