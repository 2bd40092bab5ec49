package io.haproxyconfd.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.haproxyconfd.adapters.dns.Dnsmasq;
import io.haproxyconfd.adapters.etcd.EtcdCluster;
import io.haproxyconfd.adapters.haproxy.EchoBackend;
import io.haproxyconfd.adapters.haproxy.RawHttp;
import io.haproxyconfd.domain.Await;
import io.haproxyconfd.domain.FreePorts;
import java.net.InetAddress;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
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

  /**
   * The seed README from top to bottom, its commands verbatim with its names: an HTTP service by
   * host, two by path only, 'balancing cookie', the galera TCP service, and removing a service.
   * Backends come from DNS: myapp has two addresses (a and b), myapi is c, otherapi a, galera b.
   */
  @Test
  void the_seed_readme_with_dns_is_served_from_etcd_v2_and_follows_its_changes() throws Exception {
    dns.hosts(
        "127.0.0.1 myapp",
        "127.0.0.2 myapp",
        "127.0.0.3 myapi",
        "127.0.0.1 otherapi",
        "127.0.0.2 galera");
    String port = Integer.toString(backends.a.port());
    String galeraPort = Integer.toString(FreePorts.next());
    String p = "/haproxy-seedv2";
    etcd.etcdctlV2("mkdir", p + "/services");
    etcd.etcdctlV2("mkdir", p + "/tcp-services");
    etcd.etcdctlV2("set", p + "/services/myapp/domain", "example.org");
    etcd.etcdctlV2("set", p + "/services/myapp/port", port);
    etcd.etcdctlV2("set", p + "/services/myapi/url_beg", "/api_A");
    etcd.etcdctlV2("set", p + "/services/myapi/port", port);
    etcd.etcdctlV2("set", p + "/services/otherapi/url_beg", "/api_B");
    etcd.etcdctlV2("set", p + "/services/otherapi/port", port);
    etcd.etcdctlV2("set", p + "/services/myapp/balancing", "cookie");
    etcd.etcdctlV2("set", p + "/tcp-services/galera/external_port", galeraPort);
    etcd.etcdctlV2("set", p + "/tcp-services/galera/internal_port", port);
    try (EchoBackend c =
            new EchoBackend("c", InetAddress.getByName("127.0.0.3"), backends.a.port());
        DaemonProcess d = DaemonProcess.start(env("seedv2"))) {
      Await.until(
          Duration.ofSeconds(10),
          d::describe,
          () ->
              backendOf(d, "api.example.net", "/api_A/x").equals("backend=c")
                  && backendOf(d, "api.example.net", "/api_B/x").equals("backend=a")
                  && servedBy(d, "example.org", "/").equals(Set.of("backend=a", "backend=b")));

      // 'balancing cookie': round robin over both, and a client with the cookie stays on one.
      RawHttp.Response first = RawHttp.get(d.http, "example.org", "/");
      String cookie = first.header("set-cookie");
      assertTrue(cookie != null && cookie.startsWith("SERVERID="), "sticky: " + cookie);
      String pinned = first.body().split(" ")[0];
      for (int i = 0; i < 6; i++) {
        RawHttp.Response again =
            RawHttp.get(d.http, "example.org", "/", "Cookie: " + cookie.split(";")[0]);
        assertEquals(pinned, again.body().split(" ")[0], "the cookie pins one server");
      }
      assertEquals(
          "backend=b",
          RawHttp.get(Integer.parseInt(galeraPort), "galera", "/").body().split(" ")[0],
          "galera listens on its external port and reaches galera's address");

      // The seed matched host OR path: example.org/api_A reached myapi. Here the host's service
      // answers it, and check and the log name both services and the key to write.
      assertTrue(
          Set.of("backend=a", "backend=b").containsAll(servedBy(d, "example.org", "/api_A/x")),
          "myapp answers example.org/api_A");
      String problems = d.problems();
      assertTrue(
          problems.contains("services/myapi/url_beg: on example.org (services/myapp)")
              && problems.contains("add those hosts to services/myapi/domain"),
          problems);
      assertTrue(!problems.contains("otherapi"), "otherapi sorted after myapp: " + problems);

      etcd.etcdctlV2("rm", p + "/services/myapi/url_beg");
      etcd.etcdctlV2("rm", p + "/services/myapi/port");
      etcd.etcdctlV2("rmdir", p + "/services/myapi");
      // A change after the rmdir: the watch goes on past a v2 directory's deletion.
      etcd.etcdctlV2("set", p + "/services/otherapi/url_beg", "/api_C");
      Await.until(
          Duration.ofSeconds(10),
          d::describe,
          () ->
              backendOf(d, "api.example.net", "/api_C/x").equals("backend=a")
                  && backendOf(d, "api.example.net", "/api_A/x").equals("503"));
      // HAProxy serves the change a moment before the daemon's status has taken it in.
      Await.until(Duration.ofSeconds(5), d::describe, () -> d.problems().isEmpty());
      assertEquals(
          1,
          java.nio.file.Files.readString(d.log)
              .lines()
              .filter(l -> l.contains("WARN services/myapi/url_beg: on example.org"))
              .count(),
          "the difference is said once, not at every reload");
    }
  }

  /** The backends that eight requests reach. */
  private static Set<String> servedBy(DaemonProcess d, String host, String path) throws Exception {
    Set<String> seen = new java.util.TreeSet<>();
    for (int i = 0; i < 8; i++) {
      seen.add(backendOf(d, host, path));
    }
    return seen;
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

  /**
   * Kontena's load balancer as its users ran it: no HAPROXY_ID but Kontena's stack and service
   * names, its keys and its KONTENA_LB_* environment. What keeps its meaning works; what does not
   * is named once in the log with what to write instead.
   */
  @Test
  void kontenas_load_balancer_environment_and_keys_are_served_or_reported() throws Exception {
    String p = "/kontena/haproxy/shop/lb";
    String a = backends.a.backend().toString();
    etcd.etcdctlV2("set", p + "/services/web/virtual_hosts", "www.example.org,shop.example.org");
    etcd.etcdctlV2("set", p + "/services/web/upstreams/web-1", a);
    etcd.etcdctlV2(
        "set", p + "/services/web/cookie", "cookie LB_COOKIE_TEST insert indirect nocache");
    // Kontena's other keys, as its own tests wrote them: a wildcard host with a path that is
    // stripped before forwarding, and basic auth with a plain password.
    etcd.etcdctlV2("set", p + "/services/api/virtual_hosts", "*.example.com");
    etcd.etcdctlV2("set", p + "/services/api/virtual_path", "/api");
    etcd.etcdctlV2("set", p + "/services/api/upstreams/api-1", backends.b.backend().toString());
    etcd.etcdctlV2(
        "set", p + "/services/api/basic_auth_secrets", "user admin insecure-password passwd");
    int stats = FreePorts.next();
    Map<String, String> env =
        DaemonProcess.env(
            "ETCD_NODE", etcd.endpoints(),
            "ETCD_API", "2",
            "CONFD_RESOLVER", "keys",
            "KONTENA_STACK_NAME", "shop",
            "KONTENA_SERVICE_NAME", "lb",
            "KONTENA_LB_HEALTH_URI", "/lb-health",
            "KONTENA_LB_CUSTOM_SETTINGS", "timeout client 2m",
            "SSL_CERTS", "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----",
            "STATS_PORT", Integer.toString(stats),
            "STATS_PASSWORD", "s3cret");
    try (DaemonProcess d = DaemonProcess.start(env)) {
      Await.until(
          Duration.ofSeconds(10),
          d::describe,
          () -> backendOf(d, "shop.example.org", "/").equals("backend=a"));
      String cookie = RawHttp.get(d.http, "www.example.org", "/").header("set-cookie");
      assertTrue(cookie != null && cookie.startsWith("LB_COOKIE_TEST="), String.valueOf(cookie));

      assertEquals(401, RawHttp.get(d.http, "x.example.com", "/api/hello").status());
      RawHttp.Response api =
          RawHttp.get(d.http, "x.example.com", "/api/hello", basic("admin:passwd"));
      assertEquals("backend=b path=/hello", api.body().split(" xff")[0], api.body());

      // Answered by HAProxy itself: no service claims this host, and no other path is answered.
      assertEquals(200, RawHttp.get(d.http, "nobody.example", "/lb-health").status());
      assertEquals(503, RawHttp.get(d.http, "nobody.example", "/other").status());

      assertEquals(401, RawHttp.get(stats, "127.0.0.1", "/").status());
      assertEquals(401, RawHttp.get(stats, "127.0.0.1", "/", basic("stats:wrong")).status());
      assertEquals(200, RawHttp.get(stats, "127.0.0.1", "/", basic("stats:s3cret")).status());
      assertEquals(200, RawHttp.get(stats, "127.0.0.1", "/", basic("admin:s3cret")).status());

      // A change and its reload: each note is still said once only.
      etcd.etcdctlV2("set", p + "/services/web/upstreams/web-2", backends.b.backend().toString());
      Await.until(
          Duration.ofSeconds(10),
          d::describe,
          () -> servedBy(d, "shop.example.org", "/").size() == 2);
      String log = java.nio.file.Files.readString(d.log);
      for (String name : java.util.List.of("KONTENA_LB_CUSTOM_SETTINGS", "SSL_CERTS")) {
        assertEquals(
            1, log.lines().filter(l -> l.contains(name)).count(), name + " named once in\n" + log);
      }
      assertTrue(log.contains("services/<name>/cert"), log);
      assertTrue(
          log.lines()
              .anyMatch(
                  l -> l.contains("KONTENA_LB_CUSTOM_SETTINGS") && l.contains("TEMPLATE_DIR")),
          log);
    }
  }

  private static String basic(String userAndPassword) {
    return "Authorization: Basic "
        + java.util.Base64.getEncoder()
            .encodeToString(userAndPassword.getBytes(java.nio.charset.StandardCharsets.UTF_8));
  }

  @Test
  void check_without_etcd_api_says_the_keys_are_in_v2_and_which_setting_reads_them()
      throws Exception {
    etcd.etcdctlV2("set", "/haproxy-onlyv2/services/web/domain", "web.example.org");
    etcd.etcdctlV2("set", "/haproxy-onlyv2/services/web/w1", "10.0.0.1:80");
    InProcessCli inV3 = check();
    assertEquals(1, inV3.status(), inV3.out());
    assertTrue(inV3.out().contains("set ETCD_API=2"), inV3.out());
    InProcessCli inV2 = check("--etcd-api", "2");
    assertEquals(0, inV2.status(), inV2.out());
  }

  @Test
  void run_without_etcd_api_says_once_in_its_log_that_the_keys_are_in_v2() throws Exception {
    etcd.etcdctlV2("set", "/haproxy-runv2/services/web/domain", "web.example.org");
    etcd.etcdctlV2("set", "/haproxy-runv2/services/web/w1", "10.0.0.1:80");
    Map<String, String> env = env("runv2", "CONFD_RESOLVER", "keys");
    env.remove("ETCD_API");
    try (DaemonProcess d = DaemonProcess.start(env)) {
      etcd.etcdctlV2("set", "/haproxy-runv2/services/web/w2", "10.0.0.2:80");
      Await.until(
          Duration.ofSeconds(10),
          d::describe,
          () -> java.nio.file.Files.readString(d.log).contains("set ETCD_API=2"));
      assertEquals(
          1,
          java.nio.file.Files.readString(d.log)
              .lines()
              .filter(l -> l.contains("ETCD_API=2"))
              .count(),
          d.describe());
    }
  }

  /** {@code check} of the keys of "onlyv2", agent-key backends. */
  private static InProcessCli check(String... more) {
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
    return InProcessCli.run(args.toArray(String[]::new));
  }

  @Test
  void check_reads_kontenas_load_balancer_prefix() throws Exception {
    etcd.etcdctlV2("set", "/kontena/haproxy/lbcheck/services/web/virtual_hosts", "www.example.org");
    etcd.etcdctlV2("set", "/kontena/haproxy/lbcheck/services/web/upstreams/w1", "10.0.0.1:80");
    InProcessCli r =
        InProcessCli.run(
            "check",
            "--prefix",
            "/kontena/haproxy/lbcheck",
            "--etcd-endpoints",
            etcd.endpoints(),
            "--etcd-api",
            "2",
            "--resolver",
            "keys");
    assertEquals(0, r.status(), r.out());
    assertTrue(r.out().contains("1 HTTP and 0 TCP services"), r.out());
  }
}
