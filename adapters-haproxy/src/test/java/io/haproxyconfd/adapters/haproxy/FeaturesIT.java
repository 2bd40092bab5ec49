package io.haproxyconfd.adapters.haproxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.haproxyconfd.domain.TestCertificates;
import io.haproxyconfd.ports.ApplyResult;
import io.haproxyconfd.ports.ApplyResult.Outcome;
import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Base64;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** TLS by SNI, basic auth, redirects, cookies, TCP, stats: each through a real HAProxy. */
class FeaturesIT {
  @RegisterExtension static HaproxyFixture haproxy = new HaproxyFixture();
  static EchoBackend a;
  static EchoBackend b;

  @BeforeAll
  static void backends() throws Exception {
    a = new EchoBackend("a");
    b = new EchoBackend("b");
  }

  @AfterAll
  static void stopBackends() {
    a.close();
    b.close();
  }

  @Test
  void tls_is_served_by_sni_and_a_bad_bundle_leaves_only_its_service_on_http() throws Exception {
    String one = TestCertificates.rsa("one.example.org");
    String two = TestCertificates.ec("two.example.org");
    String broken = TestCertificates.mismatched(one, two);
    ApplyResult r =
        haproxy.configurator.apply(
            io.haproxyconfd.domain.Keys.of(
                    "services/one/domain",
                    "one.example.org",
                    "services/one/cert",
                    one,
                    "services/one/w1",
                    a.backend().toString(),
                    "services/two/domain",
                    "two.example.org",
                    "services/two/cert",
                    two,
                    "services/two/w1",
                    b.backend().toString(),
                    "services/bad/domain",
                    "bad.example.org",
                    "services/bad/cert",
                    broken,
                    "services/bad/w1",
                    b.backend().toString())
                .parse(
                    io.haproxyconfd.domain.Keys.DNS.withDiscovery(
                        io.haproxyconfd.domain.ParseOptions.Discovery.KEYS))
                .config());
    assertEquals(Outcome.RELOADED, r.outcome(), r.toString());
    int https = haproxy.settings.httpsPort();

    RawHttp.Response first = RawHttp.getTls(https, "one.example.org", "one.example.org", "/");
    assertTrue(first.peer().getSubjectX500Principal().getName().contains("CN=one.example.org"));
    assertTrue(first.body().startsWith("backend=a"), first.body());
    assertTrue(first.body().contains("proto=https"), first.body());
    RawHttp.Response second = RawHttp.getTls(https, "two.example.org", "two.example.org", "/");
    assertTrue(second.peer().getSubjectX500Principal().getName().contains("CN=two.example.org"));
    assertTrue(second.body().startsWith("backend=b"), second.body());
    assertEquals(
        200,
        RawHttp.get(haproxy.http(), "bad.example.org", "/").status(),
        "bad cert: still on HTTP");

    Path certs = haproxy.stateDir().resolve("gen");
    try (Stream<Path> files = Files.walk(certs)) {
      for (Path f : files.filter(p -> p.toString().endsWith(".pem")).toList()) {
        assertEquals(
            "rw-------",
            PosixFilePermissions.toString(Files.getPosixFilePermissions(f)),
            f.toString());
        assertEquals(
            "rwx------",
            PosixFilePermissions.toString(Files.getPosixFilePermissions(f.getParent())));
      }
    }
  }

  @Test
  void basic_auth_redirects_and_sticky_cookies() throws Exception {
    String hash = openssl("passwd", "-6", "secret").strip();
    haproxy.apply(
        "services/private/domain",
        "private.example.org",
        "services/private/basic_auth",
        "alice:" + hash,
        "services/private/w1",
        a.backend().toString(),
        "services/secure/domain",
        "secure.example.org",
        "services/secure/force_https",
        "true",
        "services/secure/w1",
        a.backend().toString(),
        "services/sticky/domain",
        "sticky.example.org",
        "services/sticky/cookie",
        "",
        "services/sticky/w1",
        a.backend().toString(),
        "services/sticky/w2",
        b.backend().toString(),
        // Kontena's load balancer took the cookie as a whole HAProxy line.
        "services/named/domain",
        "named.example.org",
        "services/named/cookie",
        "cookie LB_COOKIE_TEST insert indirect nocache httponly",
        "services/named/w1",
        a.backend().toString(),
        "services/prefixed/domain",
        "prefixed.example.org",
        "services/prefixed/cookie",
        "cookie JSESSIONID prefix nocache",
        "services/prefixed/w1",
        a.backend().toString());

    assertEquals(401, RawHttp.get(haproxy.http(), "private.example.org", "/").status());
    String good =
        Base64.getEncoder().encodeToString("alice:secret".getBytes(StandardCharsets.UTF_8));
    String bad = Base64.getEncoder().encodeToString("alice:wrong".getBytes(StandardCharsets.UTF_8));
    assertEquals(
        200,
        RawHttp.get(haproxy.http(), "private.example.org", "/", "Authorization: Basic " + good)
            .status());
    assertEquals(
        401,
        RawHttp.get(haproxy.http(), "private.example.org", "/", "Authorization: Basic " + bad)
            .status());

    RawHttp.Response redirect = RawHttp.get(haproxy.http(), "secure.example.org", "/x?y=1");
    assertEquals(301, redirect.status());
    assertEquals("https://secure.example.org/x?y=1", redirect.header("location"));

    RawHttp.Response sticky = RawHttp.get(haproxy.http(), "sticky.example.org", "/");
    String cookie = sticky.header("set-cookie");
    // Derived from the server's address (dynamic cookies), not the slot's name.
    assertTrue(
        cookie != null && cookie.matches("SERVERID=[0-9a-f]{16};.*"), String.valueOf(cookie));
    String server = cookie.split(";")[0];
    String pinned = sticky.body().split(" ")[0];
    for (int i = 0; i < 6; i++) {
      RawHttp.Response again =
          RawHttp.get(haproxy.http(), "sticky.example.org", "/", "Cookie: " + server);
      assertEquals(pinned, again.body().split(" ")[0], "the cookie pins one server");
    }
    String named = RawHttp.get(haproxy.http(), "named.example.org", "/").header("set-cookie");
    assertTrue(
        named != null && named.matches("LB_COOKIE_TEST=[0-9a-f]{16};.*HttpOnly.*"),
        String.valueOf(named));
    // Prefix mode only prefixes the application's own cookie; HAProxy took the line and serves.
    RawHttp.Response prefixed = RawHttp.get(haproxy.http(), "prefixed.example.org", "/");
    assertEquals(200, prefixed.status());
    assertEquals(null, prefixed.header("set-cookie"));
  }

  @Test
  void health_checks_take_a_failing_server_out_of_rotation() throws Exception {
    // "sick" answers requests but fails its health check: only the check can keep traffic away.
    var sick =
        com.sun.net.httpserver.HttpServer.create(
            new java.net.InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), 0), 16);
    sick.createContext(
        "/",
        ex -> {
          byte[] body = "backend=sick\n".getBytes(StandardCharsets.UTF_8);
          ex.sendResponseHeaders(
              ex.getRequestURI().getPath().equals("/health") ? 500 : 200, body.length);
          ex.getResponseBody().write(body);
          ex.close();
        });
    sick.start();
    try {
      haproxy.apply(
          "services/checked/domain",
          "checked.example.org",
          "services/checked/health_check_uri",
          "/health",
          "services/checked/w1",
          a.backend().toString(),
          "services/checked/w2",
          "127.0.0.1:" + sick.getAddress().getPort());
      io.haproxyconfd.domain.Await.until(
          java.time.Duration.ofSeconds(20),
          "the failing server taken out of rotation",
          () -> {
            for (int i = 0; i < 6; i++) {
              if (!RawHttp.get(haproxy.http(), "checked.example.org", "/")
                  .body()
                  .startsWith("backend=a")) {
                return false;
              }
            }
            return true;
          });
    } finally {
      sick.stop(0);
    }
  }

  @Test
  void tcp_services_are_proxied_on_their_external_port() throws Exception {
    int port = HaproxyFixture.freePort();
    haproxy.apply(
        "services/web/domain", "example.org",
        "services/web/w1", a.backend().toString(),
        "tcp-services/raw/external_port", Integer.toString(port),
        "tcp-services/raw/r1", b.backend().toString());
    try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
      s.setSoTimeout(5000);
      s.getOutputStream()
          .write("GET /tcp HTTP/1.0\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      String answer = new String(s.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
      assertTrue(answer.contains("backend=b path=/tcp"), answer);
    }
  }

  @Test
  void stats_need_the_password_and_metrics_are_prometheus_text() throws Exception {
    int stats = haproxy.settings.statsPort();
    assertEquals(401, RawHttp.get(stats, "x", "/").status());
    String auth =
        Base64.getEncoder().encodeToString("admin:statspw".getBytes(StandardCharsets.UTF_8));
    assertEquals(200, RawHttp.get(stats, "x", "/", "Authorization: Basic " + auth).status());
    RawHttp.Response metrics = RawHttp.get(stats, "x", "/metrics");
    assertEquals(200, metrics.status());
    assertTrue(metrics.body().contains("haproxy_process_"), metrics.body().substring(0, 200));
  }

  @Test
  void sockets_are_private_to_the_owner() throws Exception {
    Path run = haproxy.stateDir().resolve("run");
    for (String sock : new String[] {"admin.sock", "master.sock"}) {
      String mode = PosixFilePermissions.toString(Files.getPosixFilePermissions(run.resolve(sock)));
      assertTrue(mode.startsWith("rw-------"), sock + " " + mode);
    }
  }

  static String openssl(String... args) throws IOException, InterruptedException {
    String[] cmd = new String[args.length + 1];
    cmd[0] = "openssl";
    System.arraycopy(args, 0, cmd, 1, args.length);
    Process p = new ProcessBuilder(cmd).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
    p.waitFor(10, TimeUnit.SECONDS);
    return out;
  }
}
