package io.haproxyconfd.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.haproxyconfd.adapters.etcd.EtcdCluster;
import io.haproxyconfd.adapters.haproxy.EchoBackend;
import io.haproxyconfd.adapters.haproxy.HaproxySocket;
import io.haproxyconfd.adapters.haproxy.RawHttp;
import io.haproxyconfd.domain.Await;
import io.haproxyconfd.domain.TestCertificates;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The features a user turns on with keys, from the entrypoint with etcd and real requests: TLS by
 * SNI with a chain and a certificate replaced while handshakes run, force_https, basic auth, HTTP
 * health checks, IPv6 backends and listeners.
 */
class TlsAndAuthIT {
  @RegisterExtension static EtcdCluster etcd = EtcdCluster.of(1);

  static EchoBackend a;

  @BeforeAll
  static void backends() throws Exception {
    a = new EchoBackend("a");
  }

  @AfterAll
  static void stop() {
    a.close();
  }

  static void put(String key, String value) throws Exception {
    EtcdWrites.put(etcd.client(), key, value);
  }

  static Map<String, String> env(String id, String... more) {
    Map<String, String> env = DaemonProcess.env(more);
    env.put("HAPROXY_ID", id);
    env.put("ETCD_NODE", etcd.endpoints());
    env.put("CONFD_RESOLVER", "keys");
    return env;
  }

  static String fingerprint(X509Certificate c) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(c.getEncoded()));
  }

  @Test
  void tls_by_sni_force_https_basic_auth_and_a_certificate_replaced_while_serving()
      throws Exception {
    String first = TestCertificates.rsa("one.example.org");
    String second = TestCertificates.rsa("one.example.org", "www.one.example.org");
    TestCertificates.Chain chain = TestCertificates.chain("two.example.org");
    put("/haproxy-tls/services/one/domain", "one.example.org");
    put("/haproxy-tls/services/one/cert", first);
    put("/haproxy-tls/services/one/b1", a.backend().toString());
    put("/haproxy-tls/services/two/domain", "two.example.org");
    put("/haproxy-tls/services/two/cert", chain.leaf() + chain.ca() + chain.key());
    put("/haproxy-tls/services/two/force_https", "true");
    put("/haproxy-tls/services/two/b1", a.backend().toString());
    put("/haproxy-tls/services/three/domain", "three.example.org");
    put("/haproxy-tls/services/three/url_beg", "/app");
    put("/haproxy-tls/services/three/force_https", "true");
    put("/haproxy-tls/services/three/b1", a.backend().toString());
    String hash = openssl("passwd", "-6", "-salt", "saltsalt", "open sesame").strip();
    put("/haproxy-tls/services/locked/domain", "locked.example.org");
    put("/haproxy-tls/services/locked/basic_auth", "alice:" + hash);
    put("/haproxy-tls/services/locked/b1", a.backend().toString());
    int https = DaemonProcess.freePort();
    try (DaemonProcess d = DaemonProcess.start(env("tls", "HTTPS_PORT", Integer.toString(https)))) {
      Await.until(
          Duration.ofSeconds(20),
          d::describe,
          () -> RawHttp.get(d.http, "locked.example.org", "/").status() == 401);

      // SNI picks the certificate; the chain comes leaf first.
      X509Certificate[] one = RawHttp.peerChain(https, "one.example.org");
      assertEquals(fingerprint(x509(first)), fingerprint(one[0]));
      X509Certificate[] two = RawHttp.peerChain(https, "two.example.org");
      assertEquals(2, two.length, "leaf and CA");
      assertTrue(two[0].getSubjectX500Principal().getName().contains("CN=two.example.org"));
      assertEquals(two[0].getIssuerX500Principal(), two[1].getSubjectX500Principal());
      assertEquals(200, RawHttp.getTls(https, "two.example.org", "two.example.org", "/").status());

      // force_https: plain HTTP is sent to HTTPS; the other TLS service is not.
      RawHttp.Response plain = RawHttp.get(d.http, "two.example.org", "/x?y=1");
      assertTrue(plain.status() == 301 || plain.status() == 302, plain.toString());
      assertEquals("https://two.example.org/x?y=1", plain.header("location"));
      assertEquals(200, RawHttp.get(d.http, "one.example.org", "/").status());
      // The redirect keeps the prefix the backend takes off; over HTTPS it is taken off.
      assertEquals(
          "https://three.example.org/app/x?y=1",
          RawHttp.get(d.http, "three.example.org", "/app/x?y=1").header("location"));
      String longQuery = "/app/x?q=" + "a".repeat(2000); // past what HAProxy captures for logs
      assertEquals(
          "https://three.example.org" + longQuery,
          RawHttp.get(d.http, "three.example.org", longQuery).header("location"));
      RawHttp.Response three =
          RawHttp.getTls(https, "one.example.org", "three.example.org", "/app/x");
      assertEquals("backend=a path=/x", three.body().split(" xff")[0], three.toString());

      // Basic auth: only the right password passes.
      assertEquals(401, RawHttp.get(d.http, "locked.example.org", "/").status());
      assertEquals(
          401, RawHttp.get(d.http, "locked.example.org", "/", basic("alice:wrong")).status());
      assertEquals(
          200, RawHttp.get(d.http, "locked.example.org", "/", basic("alice:open sesame")).status());

      // The certificate replaced four times while six clients hand-shake in a loop: none fails,
      // and each new one is served. A reload that dropped its listeners for a moment would show
      // among 6 concurrent clients; one serial client could miss it.
      String oldPrint = fingerprint(x509(first));
      String newPrint = fingerprint(x509(second));
      AtomicBoolean running = new AtomicBoolean(true);
      AtomicInteger handshakes = new AtomicInteger();
      AtomicInteger failures = new AtomicInteger();
      AtomicReference<String> lastFailure = new AtomicReference<>();
      AtomicReference<Set<String>> seen = new AtomicReference<>(ConcurrentHashMap.newKeySet());
      List<Thread> clients = new java.util.ArrayList<>();
      for (int c = 0; c < 6; c++) {
        Thread client =
            new Thread(
                () -> {
                  while (running.get()) {
                    try {
                      RawHttp.Response r =
                          RawHttp.getTls(https, "one.example.org", "one.example.org", "/");
                      seen.get().add(fingerprint(r.peer()));
                      if (r.status() != 200) {
                        throw new IOException("status " + r.status());
                      }
                      handshakes.incrementAndGet();
                    } catch (Exception e) {
                      failures.incrementAndGet();
                      lastFailure.set(e.toString());
                    }
                  }
                });
        client.start();
        clients.add(client);
      }
      try {
        Await.until(Duration.ofSeconds(5), "handshakes before", () -> handshakes.get() >= 60);
        for (int round = 0; round < 4; round++) {
          boolean toSecond = round % 2 == 0;
          String want = toSecond ? newPrint : oldPrint;
          seen.set(ConcurrentHashMap.newKeySet());
          put("/haproxy-tls/services/one/cert", toSecond ? second : first);
          Await.until(Duration.ofSeconds(20), d::describe, () -> seen.get().contains(want));
          // While the old worker hands over, both may answer for a moment; after 60 more
          // handshakes only the new certificate: an old worker or a stale entry still serving the
          // old one now and then would show among the 60 after those.
          int at = handshakes.get();
          Await.until(Duration.ofSeconds(5), "handover", () -> handshakes.get() >= at + 60);
          seen.set(ConcurrentHashMap.newKeySet());
          int settled = handshakes.get();
          Await.until(
              Duration.ofSeconds(5), "handshakes after", () -> handshakes.get() >= settled + 60);
          assertEquals(Set.of(want), Set.copyOf(seen.get()), "round " + round + " serves only it");
        }
      } finally {
        running.set(false);
        for (Thread client : clients) {
          client.join(10_000);
        }
      }
      assertEquals(0, failures.get(), "failed handshakes or requests: " + lastFailure.get());
      assertTrue(handshakes.get() >= 300, handshakes.get() + " handshakes");
      assertEquals(oldPrint, fingerprint(RawHttp.peerChain(https, "one.example.org")[0]));
    }
  }

  @Test
  void an_http_health_check_takes_out_a_backend_that_accepts_connections_but_fails_it()
      throws Exception {
    try (HealthBackend sick = new HealthBackend(503)) {
      put("/haproxy-checks/services/web/domain", "web.example.org");
      put("/haproxy-checks/services/web/health_check_uri", "/healthz");
      put("/haproxy-checks/services/web/b1", a.backend().toString());
      put("/haproxy-checks/services/web/b2", "127.0.0.1:" + sick.port());
      try (DaemonProcess d = DaemonProcess.start(env("checks", "CHECK_INTERVAL", "200ms"))) {
        Await.until(
            Duration.ofSeconds(20),
            d::describe,
            () -> {
              HaproxySocket.Server s = server(d, "127.0.0.1:" + sick.port());
              return s != null && !s.up() && server(d, a.backend().toString()).up();
            });
        for (int i = 0; i < 20; i++) {
          assertTrue(RawHttp.get(d.http, "web.example.org", "/").body().startsWith("backend=a"));
        }
        assertTrue(sick.healthChecks() > 0, "HAProxy asked the sick backend's /healthz");
      }
    }
  }

  @Test
  void ipv6_backends_behind_an_ipv6_listener() throws Exception {
    try (EchoBackend six = new EchoBackend("six", InetAddress.getByName("::1"), 0)) {
      put("/haproxy-six/services/web/domain", "six.example.org");
      put("/haproxy-six/services/web/b1", "[::1]:" + six.port());
      // ::1, not :: : tests listen on loopback only. haproxy-confd render checks :: below.
      try (DaemonProcess d = DaemonProcess.start(env("six", "BIND_ADDRESS", "::1"))) {
        Await.until(
            Duration.ofSeconds(20),
            d::describe,
            () -> getOverIpv6(d.http, "six.example.org").startsWith("backend=six"));
        assertEquals(Set.of("[::1]:" + six.port()), HaproxyView.of(d).servers().get("http-web"));
      }
    }
  }

  static HaproxySocket.Server server(DaemonProcess d, String endpoint) throws IOException {
    return new HaproxySocket(d.stateDir)
        .servers("http-web").stream()
            .filter(s -> s.endpoint().equals(endpoint))
            .findFirst()
            .orElse(null);
  }

  /** A GET to [::1]:port; the body. */
  static String getOverIpv6(int port, String host) throws IOException {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(InetAddress.getByName("::1"), port), 2000);
      s.setSoTimeout(5000);
      OutputStream out = s.getOutputStream();
      out.write(
          ("GET / HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n")
              .getBytes(StandardCharsets.US_ASCII));
      InputStream in = s.getInputStream();
      String text = new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
      int split = text.indexOf("\r\n\r\n");
      return split < 0 ? text : text.substring(split + 4);
    }
  }

  static String basic(String userPassword) {
    return "Authorization: Basic "
        + java.util.Base64.getEncoder()
            .encodeToString(userPassword.getBytes(StandardCharsets.UTF_8));
  }

  static X509Certificate x509(String bundle) throws Exception {
    return (X509Certificate)
        java.security.cert.CertificateFactory.getInstance("X.509")
            .generateCertificate(
                new java.io.ByteArrayInputStream(bundle.getBytes(StandardCharsets.US_ASCII)));
  }

  static String openssl(String... args) throws Exception {
    List<String> cmd = new java.util.ArrayList<>(List.of("openssl"));
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
    assertEquals(0, p.waitFor(), out);
    return out;
  }

  /** Answers 200 on every path but its health path, which answers {@code healthStatus}. */
  static final class HealthBackend implements AutoCloseable {
    private final com.sun.net.httpserver.HttpServer server;
    private final AtomicInteger checks = new AtomicInteger();

    HealthBackend(int healthStatus) throws IOException {
      server =
          com.sun.net.httpserver.HttpServer.create(
              new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
      server.createContext(
          "/",
          exchange -> {
            boolean health = exchange.getRequestURI().getPath().equals("/healthz");
            if (health) {
              checks.incrementAndGet();
            }
            byte[] body = "backend=sick\n".getBytes(StandardCharsets.US_ASCII);
            exchange.sendResponseHeaders(health ? healthStatus : 200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
          });
      server.start();
    }

    int port() {
      return server.getAddress().getPort();
    }

    int healthChecks() {
      return checks.get();
    }

    @Override
    public void close() {
      server.stop(0);
    }
  }
}
