package io.haproxyconfd.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.haproxyconfd.adapters.etcd.EtcdCluster;
import io.haproxyconfd.adapters.haproxy.EchoBackend;
import io.haproxyconfd.adapters.haproxy.HaproxySocket;
import io.haproxyconfd.adapters.haproxy.RawHttp;
import io.haproxyconfd.domain.Await;
import io.haproxyconfd.domain.FreePorts;
import io.haproxyconfd.domain.TestCertificates;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * What operators expect of the listener, through the daemon: access logs on its standard output
 * (text or JSON), HTTP/2 on TLS, the PROXY protocol, and sticky cookies that follow the backend.
 * Requests are sent with curl where a client's feature is what is tested.
 */
class ListenerIT {
  @RegisterExtension static EtcdCluster etcd = EtcdCluster.of(1);
  @RegisterExtension static TwoBackends backends = new TwoBackends();

  static Map<String, String> env(String id, String... more) {
    Map<String, String> env = DaemonProcess.env(more);
    env.put("HAPROXY_ID", id);
    env.put("ETCD_NODE", etcd.endpoints());
    env.put("CONFD_RESOLVER", "keys");
    return env;
  }

  record Curl(int exit, String out) {}

  static Curl curl(String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of("curl", "-sS", "--max-time", "5"));
    command.addAll(List.of(args));
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(10, TimeUnit.SECONDS));
    return new Curl(p.exitValue(), out);
  }

  /**
   * The lines on the daemon's standard output, each one JSON object (HAProxy's access log in JSON
   * format); any other line there fails the test.
   */
  static List<JsonObject> jsonLines(DaemonProcess d) throws Exception {
    List<JsonObject> objects = new ArrayList<>();
    for (String line : Files.readAllLines(d.stdout)) {
      objects.add(JsonParser.parseString(line).getAsJsonObject());
    }
    return objects;
  }

  @Test
  void json_access_log_and_proxy_protocol_on_the_http_and_tcp_listeners() throws Exception {
    int tcpPort = FreePorts.next();
    EtcdWrites.put(etcd.client(), "/haproxy-json/services/web/domain", "web.example.org");
    EtcdWrites.put(etcd.client(), "/haproxy-json/services/web/w1", backends.a.backend().toString());
    EtcdWrites.put(etcd.client(), "/haproxy-json/tcp-services/db/external_port", "" + tcpPort);
    EtcdWrites.put(
        etcd.client(), "/haproxy-json/tcp-services/db/d1", backends.b.backend().toString());
    try (DaemonProcess d =
        DaemonProcess.start(
            env(
                "json",
                "ACCESS_LOG",
                "stdout",
                "ACCESS_LOG_FORMAT",
                "json",
                "ACCEPT_PROXY",
                "true"))) {
      String url = "http://127.0.0.1:" + d.http;
      Await.until(
          Duration.ofSeconds(10),
          d::describe,
          () ->
              curl("--haproxy-protocol", "-H", "Host: web.example.org", url + "/x")
                  .out()
                  .startsWith("backend=a"));
      // A quote and a backslash in the request must not break the JSON line.
      Curl odd =
          curl(
              "--haproxy-protocol",
              "--path-as-is",
              "-H",
              "Host: web.example.org",
              url + "/odd/\"q\\\\u?v=\"1\"");
      Curl tcp =
          curl(
              "--haproxy-protocol",
              "-H",
              "Host: web.example.org",
              "http://127.0.0.1:" + tcpPort + "/t");
      assertTrue(tcp.out().startsWith("backend=b"), tcp.toString());
      Curl noProxyHeader = curl("-H", "Host: web.example.org", url + "/x");
      assertFalse(noProxyHeader.out().startsWith("backend="), noProxyHeader.toString());

      Await.until(
          Duration.ofSeconds(5),
          d::describe,
          () ->
              jsonLines(d).stream()
                      .anyMatch(j -> j.has("uri") && j.get("uri").getAsString().startsWith("/odd"))
                  && jsonLines(d).stream().anyMatch(j -> j.has("listener")));
      JsonObject http =
          jsonLines(d).stream()
              .filter(j -> j.has("uri") && j.get("uri").getAsString().equals("/x"))
              .filter(j -> j.get("status").getAsInt() == 200)
              .findFirst()
              .orElseThrow();
      assertEquals(200, http.get("status").getAsInt(), http.toString());
      assertEquals("http-web", http.get("backend").getAsString());
      assertEquals("web.example.org", http.get("host").getAsString());
      assertEquals("GET", http.get("method").getAsString());
      JsonObject oddLine =
          jsonLines(d).stream()
              .filter(j -> j.has("uri") && j.get("uri").getAsString().startsWith("/odd"))
              .findFirst()
              .orElseThrow();
      assertTrue(oddLine.get("uri").getAsString().contains("\"q\\"), oddLine + " / " + odd);
      assertEquals(
          1,
          jsonLines(d).stream()
              .filter(j -> j.has("uri") && j.get("uri").getAsString().startsWith("/odd"))
              .count(),
          "one line per request");
      assertFalse(Files.readString(d.log).contains("/odd"), "access lines go to stdout only");
      Await.until(
          Duration.ofSeconds(5),
          "HAProxy's own messages reach the daemon's log, not stdout",
          () -> Files.readString(d.log).contains("Proxy http stopped"));
      JsonObject tcpLine =
          jsonLines(d).stream().filter(j -> j.has("listener")).findFirst().orElseThrow();
      assertEquals("tcp-db", tcpLine.get("backend").getAsString(), tcpLine.toString());
    }
  }

  @Test
  void text_access_log_and_http2_on_the_tls_listener() throws Exception {
    EtcdWrites.put(etcd.client(), "/haproxy-h2/services/web/domain", "h2.example.org");
    EtcdWrites.put(etcd.client(), "/haproxy-h2/services/web/w1", backends.a.backend().toString());
    EtcdWrites.put(
        etcd.client(), "/haproxy-h2/services/web/cert", TestCertificates.rsa("h2.example.org"));
    int https = FreePorts.next();
    try (DaemonProcess d =
        DaemonProcess.start(env("h2", "ACCESS_LOG", "stdout", "HTTPS_PORT", "" + https))) {
      String resolve = "h2.example.org:" + https + ":127.0.0.1";
      String url = "https://h2.example.org:" + https + "/h2";
      Await.until(
          Duration.ofSeconds(10),
          d::describe,
          () -> curl("-k", "--resolve", resolve, url).out().startsWith("backend=a"));
      Curl h2 =
          curl(
              "-k",
              "--http2",
              "--resolve",
              resolve,
              "-o",
              "/dev/null",
              "-w",
              "%{http_version}",
              url);
      assertEquals("2", h2.out().strip(), h2.toString());
      Await.until(
          Duration.ofSeconds(5),
          d::describe,
          () ->
              Files.readString(d.stdout)
                  .lines()
                  .anyMatch(l -> l.contains(" http-web/s1 ") && l.contains("/h2 HTTP/2.0\"")));
      assertFalse(Files.readString(d.log).contains("/h2 HTTP"), "access lines go to stdout only");
    }
  }

  static String slotOf(DaemonProcess d, String endpoint) throws Exception {
    return new HaproxySocket(d.stateDir)
        .servers("http-web").stream()
            .filter(s -> s.filled() && s.endpoint().equals(endpoint))
            .findFirst()
            .orElseThrow()
            .name();
  }

  @Test
  void a_client_pinned_by_cookie_stays_on_its_backend_while_the_others_are_replaced()
      throws Exception {
    int port = backends.a.port();
    EchoBackend c = new EchoBackend("c", InetAddress.getByName("127.0.0.3"), port);
    try {
      EtcdWrites.put(etcd.client(), "/haproxy-sticky/services/web/domain", "sticky.example.org");
      EtcdWrites.put(etcd.client(), "/haproxy-sticky/services/web/cookie", "");
      EtcdWrites.put(
          etcd.client(), "/haproxy-sticky/services/web/w1", backends.a.backend().toString());
      EtcdWrites.put(
          etcd.client(), "/haproxy-sticky/services/web/w2", backends.b.backend().toString());
      try (DaemonProcess d = DaemonProcess.start(env("sticky"))) {
        d.awaitServed("sticky.example.org", "backend=", Duration.ofSeconds(10));
        String cookie = null;
        for (int i = 0; i < 10 && cookie == null; i++) {
          RawHttp.Response r = RawHttp.get(d.http, "sticky.example.org", "/");
          if (r.body().startsWith("backend=b")) {
            cookie = r.header("set-cookie").split(";")[0];
          }
        }
        assertTrue(cookie != null, "a request reached b");
        String pinned = cookie;

        // a is replaced by c through the runtime API, then a structural change reloads HAProxy.
        EtcdWrites.deletePrefix(etcd.client(), "/haproxy-sticky/services/web/w1");
        EtcdWrites.put(etcd.client(), "/haproxy-sticky/services/web/w3", c.backend().toString());
        Await.until(
            Duration.ofSeconds(5),
            d::describe,
            () ->
                d.problems().isEmpty()
                    && java.util.Set.of(backends.b.backend().toString(), "127.0.0.3:" + port)
                        .equals(HaproxyView.of(d).servers().get("http-web")));
        String slotBefore = slotOf(d, backends.b.backend().toString());
        long reloads = d.metric("haproxy_confd_applies_total{outcome=\"reloaded\"}");
        EtcdWrites.put(etcd.client(), "/haproxy-sticky/services/web/balance", "leastconn");
        Await.until(
            Duration.ofSeconds(5),
            d::describe,
            () -> d.metric("haproxy_confd_applies_total{outcome=\"reloaded\"}") == reloads + 1);
        // The reload packs the slots afresh: b's slot changed, so a cookie naming the slot would
        // now lead elsewhere.
        assertNotEquals(slotBefore, slotOf(d, backends.b.backend().toString()));
        for (int i = 0; i < 10; i++) {
          RawHttp.Response r = RawHttp.get(d.http, "sticky.example.org", "/", "Cookie: " + pinned);
          assertEquals("backend=b", r.body().split(" ")[0], "request " + i + " with " + pinned);
        }
        RawHttp.Response fresh = RawHttp.get(d.http, "sticky.example.org", "/");
        assertNotEquals(null, fresh.header("set-cookie"));
      }
    } finally {
      c.close();
    }
  }
}
