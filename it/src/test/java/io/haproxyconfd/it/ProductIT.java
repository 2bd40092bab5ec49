package io.haproxyconfd.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.haproxyconfd.adapters.dns.Dnsmasq;
import io.haproxyconfd.adapters.etcd.EtcdCluster;
import io.haproxyconfd.adapters.haproxy.RawHttp;
import io.haproxyconfd.domain.Await;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The product end to end, one test per way it is used: keys written with etcd's own client, the
 * daemon started through the image's entrypoint, requests through the HAProxy it runs.
 */
class ProductIT {
  @RegisterExtension static EtcdCluster etcd = EtcdCluster.of(1);
  @RegisterExtension static Dnsmasq dns = Dnsmasq.withTtl(1);

  @RegisterExtension static TwoBackends backends = new TwoBackends();

  static void put(String key, String value) throws Exception {
    EtcdWrites.put(etcd.client(), key, value);
  }

  static String backendOf(DaemonProcess d, String host, String path) throws Exception {
    RawHttp.Response r = RawHttp.get(d.http, host, path);
    return r.status() == 200 ? r.body().split(" ")[0] : Integer.toString(r.status());
  }

  static Map<String, String> env(String id, String... more) {
    Map<String, String> env = DaemonProcess.env(more);
    env.put("HAPROXY_ID", id);
    env.put("ETCD_NODE", etcd.endpoints());
    env.put("DNS_SERVERS", "127.0.0.1:" + dns.address().getPort());
    return env;
  }

  @Test
  void the_seed_docker_run_with_dns_follows_a_dns_change_without_a_reload() throws Exception {
    dns.hosts("127.0.0.1 myapp");
    put("/haproxy-seed/services/myapp/domain", "example.org");
    put("/haproxy-seed/services/myapp/port", Integer.toString(backends.a.port()));
    try (DaemonProcess d = DaemonProcess.start(env("seed"))) {
      Await.until(
          Duration.ofSeconds(10),
          d::describe,
          () -> backendOf(d, "example.org", "/").equals("backend=a"));
      long reloads = d.metric("haproxy_confd_applies_total{outcome=\"reloaded\"}");
      dns.hosts("127.0.0.2 myapp");
      Await.until(
          Duration.ofSeconds(10),
          d::describe,
          () -> backendOf(d, "example.org", "/").equals("backend=b"));
      // HAProxy may serve the change a moment before the daemon has counted it.
      Await.until(
          Duration.ofSeconds(5),
          "the DNS change applied through the runtime API",
          () -> d.metric("haproxy_confd_applies_total{outcome=\"runtime_update\"}") >= 1);
      assertEquals(
          reloads,
          d.metric("haproxy_confd_applies_total{outcome=\"reloaded\"}"),
          "no reload for a DNS change");
    }
  }

  @Test
  void dns_mode_serves_1000_services_and_follows_a_change_of_ten() throws Exception {
    int services = 1000;
    List<String> hosts = new java.util.ArrayList<>();
    List<Map.Entry<String, String>> keys = new java.util.ArrayList<>();
    for (int i = 0; i < services; i++) {
      hosts.add("127.0.0.1 svc" + i);
      keys.add(
          Map.entry("/haproxy-dns1k/services/svc" + i + "/domain", "svc" + i + ".example.org"));
      keys.add(
          Map.entry(
              "/haproxy-dns1k/services/svc" + i + "/port", Integer.toString(backends.a.port())));
    }
    dns.hosts(hosts.toArray(String[]::new));
    EtcdWrites.putAll(etcd.client(), keys, Duration.ofSeconds(60));
    try (DaemonProcess d = DaemonProcess.start(env("dns1k"))) {
      Await.until(
          Duration.ofSeconds(60),
          d::describe,
          () -> {
            HaproxyView v = HaproxyView.of(d);
            return java.util.stream.IntStream.range(0, services)
                .allMatch(
                    i ->
                        java.util.Set.of(backends.a.backend().toString())
                            .equals(v.servers().get("http-svc" + i)));
          });
      for (int i = 0; i < services; i++) {
        assertEquals("backend=a", backendOf(d, "svc" + i + ".example.org", "/"), "svc" + i);
      }
      for (int i = 0; i < 10; i++) {
        hosts.set(i * 100, "127.0.0.2 svc" + i * 100);
      }
      dns.hosts(hosts.toArray(String[]::new));
      Await.until(
          Duration.ofSeconds(30),
          d::describe,
          () -> {
            for (int i = 0; i < 10; i++) {
              if (!backendOf(d, "svc" + i * 100 + ".example.org", "/").equals("backend=b")) {
                return false;
              }
            }
            return true;
          });
      HaproxyView v = HaproxyView.of(d);
      for (int i = 0; i < services; i++) {
        String expected = (i % 100 == 0 ? backends.b : backends.a).backend().toString();
        assertEquals(java.util.Set.of(expected), v.servers().get("http-svc" + i), "svc" + i);
      }
    }
  }

  /**
   * DNS that has not answered yet at start: the daemon applies what it has once DNS_START_TIMEOUT
   * runs out, but says not ready while any service waits for its first answer; ready comes once DNS
   * answers, and then every service is served.
   */
  @Test
  void not_ready_while_services_wait_for_their_first_dns_answer() throws Exception {
    int services = 200;
    List<String> hosts = new java.util.ArrayList<>();
    List<Map.Entry<String, String>> keys = new java.util.ArrayList<>();
    for (int i = 0; i < services; i++) {
      hosts.add("127.0.0.1 wait" + i);
      keys.add(Map.entry("/haproxy-dnswait/services/wait" + i + "/domain", "wait" + i + ".test"));
      keys.add(
          Map.entry(
              "/haproxy-dnswait/services/wait" + i + "/port", Integer.toString(backends.a.port())));
    }
    dns.hosts(hosts.toArray(String[]::new));
    EtcdWrites.putAll(etcd.client(), keys, Duration.ofSeconds(60));
    String pid = Long.toString(dns.pid());
    new ProcessBuilder("kill", "-STOP", pid).start().waitFor();
    boolean paused = true;
    try (DaemonProcess d =
        DaemonProcess.launch(
            env("dnswait", "DNS_START_TIMEOUT", "1s", "DNS_MAX_IN_FLIGHT", "256"))) {
      try {
        Await.until(
            Duration.ofSeconds(30),
            d::describe,
            () -> {
              try {
                return d.metric("haproxy_confd_services_waiting_for_resolver") > 0;
              } catch (AssertionError | java.io.IOException e) {
                return false; // not up yet, or nothing applied yet
              }
            });
        assertEquals(503, d.get("/readyz").statusCode(), "applied, but DNS has not answered");
        // A lookup that times out is no answer either: still not ready once every name's has.
        Await.until(
            Duration.ofSeconds(30),
            d::describe,
            () -> d.metric("haproxy_confd_dns_timeouts_total") >= services);
        assertEquals(503, d.get("/readyz").statusCode(), "lookups timed out, none answered");
        assertEquals(0, d.metric("haproxy_confd_ready"));
      } finally {
        new ProcessBuilder("kill", "-CONT", pid).start().waitFor();
        paused = false;
      }
      Await.until(Duration.ofSeconds(60), d::describe, () -> d.get("/readyz").statusCode() == 200);
      assertEquals(0, d.metric("haproxy_confd_services_waiting_for_resolver"));
      Await.until(
          Duration.ofSeconds(15),
          d::describe,
          () -> {
            for (int i = 0; i < services; i++) {
              if (!backendOf(d, "wait" + i + ".test", "/").equals("backend=a")) {
                return false;
              }
            }
            return true;
          });
    } finally {
      if (paused) {
        new ProcessBuilder("kill", "-CONT", pid).start().waitFor();
      }
    }
  }

  @Test
  void the_kontena_mode_takes_backends_from_agent_keys() throws Exception {
    put("/haproxy-kontena/services/ghost/virtual_hosts", "blog.example.org");
    put("/haproxy-kontena/services/ghost/virtual_path", "/blog");
    put("/haproxy-kontena/services/ghost/upstreams/ghost-1", backends.a.backend().toString());
    try (DaemonProcess d = DaemonProcess.start(env("kontena", "CONFD_RESOLVER", "keys"))) {
      Await.until(
          Duration.ofSeconds(10),
          d::describe,
          () -> backendOf(d, "blog.example.org", "/blog/x").equals("backend=a"));
      assertTrue(
          RawHttp.get(d.http, "blog.example.org", "/blog/x").body().contains("path=/x"),
          "prefix stripped");
      put("/haproxy-kontena/services/ghost/upstreams/ghost-1", backends.b.backend().toString());
      Await.until(
          Duration.ofSeconds(10),
          d::describe,
          () -> backendOf(d, "blog.example.org", "/blog/x").equals("backend=b"));
      Await.until(
          Duration.ofSeconds(5),
          () -> "HAProxy holds b alone, a's slot emptied; " + d.describe(),
          () ->
              java.util.Set.of(backends.b.backend().toString())
                  .equals(HaproxyView.of(d).servers().get("http-ghost")));
    }
  }

  @Test
  void several_daemons_on_one_store_each_see_only_their_own_keys() throws Exception {
    put("/haproxy-one/services/web/domain", "one.example.org");
    put("/haproxy-one/services/web/w1", backends.a.backend().toString());
    put("/haproxy-two/services/web/domain", "two.example.org");
    put("/haproxy-two/services/web/w1", backends.b.backend().toString());
    try (DaemonProcess one = DaemonProcess.start(env("one", "CONFD_RESOLVER", "keys"));
        DaemonProcess two = DaemonProcess.start(env("two", "CONFD_RESOLVER", "keys"))) {
      Await.until(
          Duration.ofSeconds(10),
          one::describe,
          () -> backendOf(one, "one.example.org", "/").equals("backend=a"));
      Await.until(
          Duration.ofSeconds(10),
          two::describe,
          () -> backendOf(two, "two.example.org", "/").equals("backend=b"));
      assertEquals("503", backendOf(one, "two.example.org", "/"));
      assertEquals("503", backendOf(two, "one.example.org", "/"));
    }
  }

  @Test
  void a_burst_of_10000_writes_ends_in_a_handful_of_applies_and_the_exact_final_state()
      throws Exception {
    int services = 100;
    for (int s = 0; s < services; s++) {
      put("/haproxy-burst/services/s" + s + "/domain", "s" + s + ".example.org");
    }
    try (DaemonProcess d = DaemonProcess.start(env("burst", "CONFD_RESOLVER", "keys"))) {
      Burst.Result r = Burst.run(etcd.client(), d, "/haproxy-burst/", services, 10_000);
      System.out.printf(
          "burst: 10000 writes in %d ms, final state after %d ms, %d applies%n",
          r.writtenMs(), r.finalStateMs(), r.applies());
      assertTrue(r.applies() <= 40, r.applies() + " applies for 10,000 writes");
      assertEquals(0, r.stale(), "exactly one address per service, none stale");
    }
  }

  @Test
  void sigterm_stops_the_daemon_and_haproxy_cleanly() throws Exception {
    put("/haproxy-term/services/web/domain", "term.example.org");
    put("/haproxy-term/services/web/w1", backends.a.backend().toString());
    DaemonProcess d = DaemonProcess.start(env("term", "CONFD_RESOLVER", "keys"));
    long master = d.masterPid();
    assertEquals(0, d.stop(), d.describe());
    Await.until(Duration.ofSeconds(5), "HAProxy gone", () -> !alive(master));
    assertTrue(d.describe().contains("stopped"), d.describe());
  }

  static boolean alive(long pid) throws Exception {
    var stat = java.nio.file.Path.of("/proc", Long.toString(pid), "stat");
    return java.nio.file.Files.exists(stat)
        && java.nio.file.Files.readString(stat)
                .substring(java.nio.file.Files.readString(stat).lastIndexOf(')') + 2)
                .charAt(0)
            != 'Z';
  }
}
