package io.haproxyconfd.adapters.etcd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.haproxyconfd.domain.Await;
import io.haproxyconfd.domain.KeySnapshot;
import io.haproxyconfd.domain.ProxyId;
import io.haproxyconfd.ports.KeyValueSource;
import io.haproxyconfd.ports.Mirror;
import io.haproxyconfd.ports.StoreException;
import io.haproxyconfd.ports.Subscription;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The etcd v2 source against Debian's etcd started with --enable-v2, keys written the way the seed
 * images' users write them: etcdctl with ETCDCTL_API=2, the seed READMEs' commands verbatim.
 */
class EtcdV2KeyValueSourceIT {
  @RegisterExtension static EtcdCluster etcd = EtcdCluster.of(1);

  private static final Duration DEADLINE = Duration.ofSeconds(15);
  private static final HttpClient HTTP = HttpClient.newHttpClient();
  private ProxyId proxy;
  private KeyValueSource source;

  @BeforeEach
  void setUp(org.junit.jupiter.api.TestInfo info) {
    proxy = new ProxyId("v2-" + Math.abs(info.getTestMethod().orElseThrow().getName().hashCode()));
    source = EtcdStore.connectV2(EtcdSettings.of(etcd.endpoints()));
  }

  @AfterEach
  void tearDown() {
    source.close();
  }

  private String prefix() {
    return "/haproxy-" + proxy.value();
  }

  /** A v2 PUT through the HTTP API, as the seed's entrypoint and Kontena's agents write. */
  private static CompletableFuture<HttpResponse<String>> put(String key, String value) {
    return HTTP.sendAsync(
        HttpRequest.newBuilder(URI.create(etcd.endpoint(0) + "/v2/keys" + key))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .PUT(
                HttpRequest.BodyPublishers.ofString(
                    "value=" + URLEncoder.encode(value, StandardCharsets.UTF_8)))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void the_seed_readmes_commands_verbatim_are_read_and_directories_carry_no_value()
      throws Exception {
    String p = prefix();
    etcd.etcdctlV2("mkdir", p + "/services");
    etcd.etcdctlV2("mkdir", p + "/tcp-services");
    etcd.etcdctlV2("set", p + "/services/myapp/domain", "example.org");
    etcd.etcdctlV2("set", p + "/services/myapp/port", "80");
    etcd.etcdctlV2("set", p + "/services/myapi/url_beg", "/api_A");
    etcd.etcdctlV2("set", p + "/services/myapi/port", "80");
    etcd.etcdctlV2("set", p + "/services/myapp/balancing", "cookie");
    etcd.etcdctlV2("set", p + "/services/ghost/upstreams/nodeA", "1.2.3.4:80");
    etcd.etcdctlV2("set", p + "/services/ghost/upstreams/nodeB2", "2.3.4.5:90");
    etcd.etcdctlV2("rm", p + "/services/ghost/upstreams/nodeB2");
    etcd.etcdctlV2("set", p + "/tcp-services/galera/external_port", "3306");
    etcd.etcdctlV2("set", p + "/tcp-services/galera/internal_port", "3306");
    etcd.etcdctlV2("mkdir", p + "/services/gone");
    etcd.etcdctlV2("rmdir", p + "/services/gone");
    // A directory where a value is expected carries no value: the key is simply absent.
    etcd.etcdctlV2("mkdir", p + "/services/odd/domain");

    KeySnapshot s = source.read(proxy);
    assertEquals(
        Map.of(
            "services/myapp/domain", "example.org",
            "services/myapp/port", "80",
            "services/myapp/balancing", "cookie",
            "services/myapi/url_beg", "/api_A",
            "services/myapi/port", "80",
            "services/ghost/upstreams/nodeA", "1.2.3.4:80",
            "tcp-services/galera/external_port", "3306",
            "tcp-services/galera/internal_port", "3306"),
        s.values());
    assertTrue(s.revision() > 0);
  }

  @Test
  void kontena_load_balancer_keys_are_read_under_their_own_prefix() throws Exception {
    etcd.etcdctlV2("set", "/kontena/haproxy/lb1/services/web/virtual_hosts", "www.example.org");
    etcd.etcdctlV2("set", "/kontena/haproxy/lb1/services/web/upstreams/web-1", "10.0.0.1:80");
    etcd.etcdctlV2("set", "/kontena/haproxy/lb2/services/other/virtual_hosts", "other.org");
    assertEquals(
        Map.of(
            "services/web/virtual_hosts", "www.example.org",
            "services/web/upstreams/web-1", "10.0.0.1:80"),
        source.read(ProxyId.atPrefix("/kontena/haproxy/lb1", null)).values());
  }

  @Test
  void a_thousand_rapid_sets_end_in_the_exact_final_state() throws Exception {
    try (Mirror mirror = new Mirror(source, proxy)) {
      Semaphore inFlight = new Semaphore(64);
      List<CompletableFuture<?>> puts = new ArrayList<>();
      for (int i = 0; i < 1000; i++) {
        inFlight.acquire();
        puts.add(
            put(prefix() + "/services/s" + (i % 50) + "/port", Integer.toString(i))
                .whenComplete((r, e) -> inFlight.release()));
      }
      CompletableFuture.allOf(puts.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
      Map<String, String> truth = source.read(proxy).values();
      assertEquals(50, truth.size());
      Await.until(
          DEADLINE,
          () -> "mirror " + mirror.values() + " against " + truth,
          () -> mirror.values().equals(truth));
    }
  }

  @Test
  void an_etcd_restart_mid_stream_loses_no_update() throws Exception {
    try (Mirror mirror = new Mirror(source, proxy)) {
      put(prefix() + "/services/web/port", "1").get(5, TimeUnit.SECONDS);
      Await.until(
          DEADLINE, "first set", () -> "1".equals(mirror.values().get("services/web/port")));
      etcd.kill(0);
      etcd.restart(0);
      for (int i = 2; i <= 20; i++) {
        put(prefix() + "/services/web/port", Integer.toString(i)).get(10, TimeUnit.SECONDS);
      }
      Await.until(
          Duration.ofSeconds(20),
          () -> "last set after restart; mirror has " + mirror.values(),
          () -> "20".equals(mirror.values().get("services/web/port")));
    }
  }

  @Test
  void more_than_a_thousand_changes_while_the_watch_is_away_signal_a_full_read() throws Exception {
    put(prefix() + "/services/web/port", "0").get(5, TimeUnit.SECONDS);
    long old = source.read(proxy).revision();
    // Past etcd v2's window of 1,000 events: a watch from 'old' finds its index cleared.
    for (int i = 1; i <= 1100; i++) {
      put(prefix() + "/services/other/port", Integer.toString(i)).get(5, TimeUnit.SECONDS);
    }
    put(prefix() + "/services/web/port", "last").get(5, TimeUnit.SECONDS);
    AtomicInteger signals = new AtomicInteger();
    try (Subscription watch = source.watch(proxy, old, reason -> signals.incrementAndGet())) {
      Await.until(DEADLINE, "a signal", () -> signals.get() > 0);
      // The watch goes on from etcd's current index: a change after the clear is signalled too.
      int before = signals.get();
      put(prefix() + "/services/web/port", "after").get(5, TimeUnit.SECONDS);
      Await.until(DEADLINE, "a signal for the change after", () -> signals.get() > before);
    }
    assertEquals("after", source.read(proxy).values().get("services/web/port"));
  }

  @Test
  void an_unreachable_etcd_is_an_error_within_the_timeout_not_a_hang() throws Exception {
    int port = EtcdCluster.freePort();
    try (KeyValueSource nowhere =
        EtcdStore.connectV2(
            EtcdSettings.of("127.0.0.1:" + port).withTimeout(Duration.ofMillis(800)))) {
      long start = System.nanoTime();
      StoreException e = assertThrows(StoreException.class, () -> nowhere.read(proxy));
      assertFalse(e.isPermanent());
      assertTrue((System.nanoTime() - start) / 1_000_000 < 5000);
    }
  }

  @Test
  void a_second_endpoint_answers_when_the_first_is_down() throws Exception {
    int dead = EtcdCluster.freePort();
    put(prefix() + "/services/web/port", "80").get(5, TimeUnit.SECONDS);
    try (KeyValueSource both =
        EtcdStore.connectV2(
            EtcdSettings.of("127.0.0.1:" + dead + "," + etcd.endpoints())
                .withTimeout(Duration.ofSeconds(2)))) {
      assertEquals("80", both.read(proxy).values().get("services/web/port"));
    }
  }
}
