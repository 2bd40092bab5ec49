package io.haproxyconfd.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.haproxyconfd.adapters.dns.Dnsmasq;
import io.haproxyconfd.adapters.etcd.EtcdCluster;
import io.haproxyconfd.adapters.haproxy.RawHttp;
import io.haproxyconfd.app.Cli;
import io.haproxyconfd.domain.Await;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Users of the seed image and its Kontena fork keep their keys in etcd's v2 API: their README
 * commands, run verbatim with ETCDCTL_API=2 etcdctl, are served through the daemon.
 */
class EtcdV2IT {
  @RegisterExtension static EtcdCluster etcd = EtcdCluster.of(1);
  @RegisterExtension static Dnsmasq dns = Dnsmasq.withTtl(1);
  @RegisterExtension static TwoBackends backends = new TwoBackends();

  static Map<String, String> env(String id, String... more) {
    Map<String, String> env = DaemonProcess.env(more);
    env.put("HAPROXY_ID", id);
    env.put("ETCD_NODE", etcd.endpoints());
    env.put("ETCD_API", "2");
    env.put("DNS_SERVERS", "127.0.0.1:" + dns.address().getPort());
    return env;
  }

  static String backendOf(DaemonProcess d, String host, String path) throws Exception {
    RawHttp.Response r = RawHttp.get(d.http, host, path);
    return r.status() == 200 ? r.body().split(" ")[0] : Integer.toString(r.status());
  }

  @Test
  void the_seed_readme_with_dns_is_served_from_etcd_v2_and_follows_its_changes() throws Exception {
    dns.hosts("127.0.0.1 myapp", "127.0.0.2 myapi");
    String port = Integer.toString(backends.a.port());
    etcd.etcdctlV2("mkdir", "/haproxy-seedv2/services");
    etcd.etcdctlV2("mkdir", "/haproxy-seedv2/tcp-services");
    etcd.etcdctlV2("set", "/haproxy-seedv2/services/myapp/domain", "example.org");
    etcd.etcdctlV2("set", "/haproxy-seedv2/services/myapp/port", port);
    try (DaemonProcess d = DaemonProcess.start(env("seedv2"))) {
      Await.until(
          Duration.ofSeconds(10),
          d::describe,
          () -> backendOf(d, "example.org", "/").equals("backend=a"));
      etcd.etcdctlV2("set", "/haproxy-seedv2/services/myapi/url_beg", "/api_A");
      etcd.etcdctlV2("set", "/haproxy-seedv2/services/myapi/port", port);
      etcd.etcdctlV2("set", "/haproxy-seedv2/services/myapi/domain", "example.org");
      Await.until(
          Duration.ofSeconds(10),
          d::describe,
          () -> backendOf(d, "example.org", "/api_A/x").equals("backend=b"));
      etcd.etcdctlV2("rm", "--recursive", "/haproxy-seedv2/services/myapi");
      Await.until(
          Duration.ofSeconds(10),
          d::describe,
          () -> backendOf(d, "example.org", "/api_A/x").equals("backend=a"));
    }
  }

  @Test
  void the_kontena_forks_agent_keys_are_served_from_etcd_v2() throws Exception {
    etcd.etcdctlV2("mkdir", "/haproxy-discover/services");
    etcd.etcdctlV2("set", "/haproxy-discover/services/myapp/domain", "example.org");
    etcd.etcdctlV2(
        "set", "/haproxy-discover/services/myapp/upstreams/nodeA", backends.a.backend().toString());
    try (DaemonProcess d = DaemonProcess.start(env("discover", "CONFD_RESOLVER", "keys"))) {
      Await.until(
          Duration.ofSeconds(10),
          d::describe,
          () -> backendOf(d, "example.org", "/").equals("backend=a"));
      etcd.etcdctlV2(
          "set",
          "/haproxy-discover/services/myapp/upstreams/nodeB2",
          backends.b.backend().toString());
      etcd.etcdctlV2("rm", "/haproxy-discover/services/myapp/upstreams/nodeA");
      Await.until(
          Duration.ofSeconds(10),
          d::describe,
          () -> backendOf(d, "example.org", "/").equals("backend=b"));
    }
  }

  @Test
  void check_without_etcd_api_says_the_keys_are_in_v2_and_which_setting_reads_them()
      throws Exception {
    etcd.etcdctlV2("set", "/haproxy-onlyv2/services/web/domain", "web.example.org");
    etcd.etcdctlV2("set", "/haproxy-onlyv2/services/web/w1", "10.0.0.1:80");
    StringWriter out = new StringWriter();
    assertEquals(1, check(out), out.toString());
    assertTrue(out.toString().contains("set ETCD_API=2"), out.toString());
    assertEquals(0, check(out, "--etcd-api", "2"), out.toString());
  }

  /**
   * {@code check} of the keys of "onlyv2", agent-key backends; output and errors to {@code out}.
   */
  private static int check(StringWriter out, String... more) {
    java.util.List<String> args =
        new java.util.ArrayList<>(
            java.util.List.of(
                "check",
                "--haproxy-id",
                "onlyv2",
                "--etcd-endpoints",
                etcd.endpoints(),
                "--resolver",
                "keys"));
    args.addAll(java.util.List.of(more));
    return Cli.execute(
        new PrintWriter(out, true), new PrintWriter(out, true), args.toArray(String[]::new));
  }

  @Test
  void check_reads_kontenas_load_balancer_prefix() throws Exception {
    etcd.etcdctlV2("set", "/kontena/haproxy/lbcheck/services/web/virtual_hosts", "www.example.org");
    etcd.etcdctlV2("set", "/kontena/haproxy/lbcheck/services/web/upstreams/w1", "10.0.0.1:80");
    StringWriter out = new StringWriter();
    int status =
        Cli.execute(
            new PrintWriter(out, true),
            new PrintWriter(out, true),
            "check",
            "--prefix",
            "/kontena/haproxy/lbcheck",
            "--etcd-endpoints",
            etcd.endpoints(),
            "--etcd-api",
            "2",
            "--resolver",
            "keys");
    assertEquals(0, status, out.toString());
    assertTrue(out.toString().contains("1 HTTP and 0 TCP services"), out.toString());
  }
}
