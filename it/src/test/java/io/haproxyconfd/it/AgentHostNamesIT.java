package io.haproxyconfd.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.haproxyconfd.adapters.dns.Dnsmasq;
import io.haproxyconfd.adapters.etcd.EtcdCluster;
import io.haproxyconfd.adapters.haproxy.EchoBackend;
import io.haproxyconfd.adapters.haproxy.RawHttp;
import io.haproxyconfd.domain.Await;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Agent keys naming host:port, resolved once through DNS when the operator allows it. */
class AgentHostNamesIT {
  @RegisterExtension static EtcdCluster etcd = EtcdCluster.of(1);
  @RegisterExtension static Dnsmasq dns = Dnsmasq.withTtl(1);

  @Test
  void a_named_agent_backend_is_resolved_and_served() throws Exception {
    try (EchoBackend a = new EchoBackend("a")) {
      dns.hosts("127.0.0.1 ghost-1.internal");
      etcd.etcdctl("put", "/haproxy-names/services/ghost/domain", "blog.example.org");
      etcd.etcdctl("put", "/haproxy-names/services/ghost/ghost-1", "ghost-1.internal:" + a.port());
      Map<String, String> env =
          Map.of(
              "HAPROXY_ID", "names",
              "ETCD_NODE", etcd.endpoints(),
              "CONFD_RESOLVER", "keys",
              "AGENT_HOST_NAMES", "true",
              "DNS_SERVERS", "127.0.0.1:" + dns.address().getPort());
      try (DaemonProcess d = DaemonProcess.start(env)) {
        Await.until(
            Duration.ofSeconds(10),
            d::describe,
            () -> RawHttp.get(d.http, "blog.example.org", "/").body().startsWith("backend=a"));
        Await.until(
            Duration.ofSeconds(5),
            d::describe,
            () ->
                java.util.Set.of("127.0.0.1:" + a.port())
                    .equals(HaproxyView.of(d).servers().get("http-ghost")));
        assertEquals(0, d.stop(), d.describe());
      }
    }
  }
}
