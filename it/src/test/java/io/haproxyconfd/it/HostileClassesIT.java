package io.haproxyconfd.it;

import static io.haproxyconfd.it.HostileInputIT.answers;
import static io.haproxyconfd.it.HostileInputIT.logNames;
import static io.haproxyconfd.it.HostileInputIT.names;
import static io.haproxyconfd.it.HostileInputIT.problems;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.haproxyconfd.adapters.etcd.EtcdCluster;
import io.haproxyconfd.adapters.haproxy.EchoBackend;
import io.haproxyconfd.adapters.haproxy.RawHttp;
import io.haproxyconfd.domain.Await;
import io.haproxyconfd.domain.TestCertificates;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Hostile and odd input beyond the corpus, through etcd, the daemon and HAProxy: raw invalid UTF-8,
 * a 1.4 MB value, 50,000 keys under one service, folders that are no names, a value on a service's
 * folder, unicode hosts and hosts that differ by case, certificate bundles as openssl writes them,
 * values with the whitespace {@code echo} adds, ports out of range or taken by the daemon itself.
 * What is refused is named in /status and the log and is not in HAProxy; what is only odd is
 * served.
 */
class HostileClassesIT {
  @RegisterExtension static EtcdCluster etcd = EtcdCluster.of(1);

  static final String PREFIX = "/haproxy-classes/";

  static EchoBackend a;
  static EchoBackend elsewhere;
  static Client client;

  @BeforeAll
  static void setUp() throws Exception {
    a = new EchoBackend("a");
    elsewhere = new EchoBackend("elsewhere", InetAddress.getByName("127.0.0.2"), 0);
    client = Client.builder().endpoints(etcd.endpoints()).build();
  }

  @AfterAll
  static void tearDown() {
    client.close();
    a.close();
    elsewhere.close();
  }

  @Test
  void odd_input_is_served_and_hostile_input_is_named_and_left_out() throws Exception {
    String good = a.backend().toString();
    int httpsPort = DaemonProcess.freePort();
    int adminPort = DaemonProcess.freePort();
    List<String> refused = new ArrayList<>(); // keys (or folders) that must be named
    List<String> absent = new ArrayList<>(); // backends HAProxy must not have

    // Raw invalid UTF-8, written as bytes: in a value, and in a service's name.
    putBytes(bytes(PREFIX + "services/rawvalue/domain"), new byte[] {'r', (byte) 0xc3, '(', 'w'});
    put("services/rawvalue/b1", good);
    refused.add("services/rawvalue/domain");
    absent.add("http-rawvalue");
    byte[] rawName = (PREFIX + "services/raw\u0001name/domain").getBytes();
    rawName[PREFIX.length() + "services/raw".length()] = (byte) 0xff;
    putBytes(rawName, "rawname.example.org".getBytes());

    // A 1.4 MB value, under etcd's 1.5 MiB request limit.
    put("services/big/domain", "b".repeat(1_400_000) + ".example.org");
    put("services/big/b1", good);
    refused.add("services/big/domain");
    absent.add("http-big");

    // 50,000 backend keys under one service: one problem, by the service's folder.
    List<Map.Entry<String, String>> many = new ArrayList<>();
    for (int i = 0; i < 50_000; i++) {
      many.add(
          Map.entry(
              PREFIX + "services/huge/i" + i, "10.9." + (i / 256 % 256) + "." + (i % 256) + ":80"));
    }
    EtcdWrites.putAll(client, many, Duration.ofSeconds(120));
    put("services/huge/domain", "huge.example.org");
    refused.add("services/huge");
    absent.add("http-huge");

    // Folders that are no service names, and a value where a service's folder belongs.
    for (String name : List.of(".", "..", "")) {
      put("services/" + name + "/domain", "dots.example.org");
      put("services/" + name + "/b1", good);
      refused.add("services/" + name);
    }
    put("services/a/b/domain", "nested.example.org");
    refused.add("services/a/b/domain");
    put("services/folder", "a value on a folder");
    refused.add("services/folder");

    // Unicode host: refused, its punycode named; the punycode itself is served.
    put("services/unicode/domain", "b\u00fccher.example.org");
    put("services/unicode/b1", good);
    refused.add("services/unicode/domain");
    absent.add("http-unicode");
    put("services/puny/domain", "xn--bcher-kva.example.org");
    put("services/puny/b1", good);

    // Hosts that differ only by case: the later service is left out.
    put("services/shop1/domain", "Shop.example.org");
    put("services/shop1/b1", good);
    put("services/shop2/domain", "shop.EXAMPLE.org");
    put("services/shop2/b1", elsewhere.backend().toString());
    refused.add("services/shop2");
    absent.add("http-shop2");

    // Certificates as openssl writes them: a chain in reverse order, EC PARAMETERS before the
    // key, DH PARAMETERS after it.
    TestCertificates.Chain chain = TestCertificates.chain("chain.example.org");
    Map<String, String> certs =
        Map.of(
            "chain", chain.ca() + chain.key() + chain.leaf(),
            "ecparam", TestCertificates.ecWithParameters("ecparam.example.org"),
            "dh", TestCertificates.rsa("dh.example.org") + TestCertificates.dhParameters());
    for (var c : certs.entrySet()) {
      put("services/" + c.getKey() + "/domain", c.getKey() + ".example.org");
      put("services/" + c.getKey() + "/cert", c.getValue());
      put("services/" + c.getKey() + "/b1", good);
    }

    // What echo writes: surrounding whitespace and a trailing newline.
    put("services/spaced/domain", "  spaced.example.org\n");
    put("services/spaced/b1", " " + good + "\n");
    int spacedTcp = DaemonProcess.freePort();
    put("tcp-services/spacedtcp/external_port", spacedTcp + "\n");
    put("tcp-services/spacedtcp/internal_port", " " + a.port() + "\n");
    put("tcp-services/spacedtcp/b1", good + "\n");

    // Ports out of range, and ports the daemon holds itself.
    for (String port : List.of("0", "70000")) {
      put(
          "tcp-services/inport" + port + "/external_port",
          Integer.toString(DaemonProcess.freePort()));
      put("tcp-services/inport" + port + "/internal_port", port);
      put("tcp-services/inport" + port + "/b1", good);
      refused.add("tcp-services/inport" + port + "/internal_port");
      absent.add("tcp-inport" + port);
      put("services/check" + port + "/domain", "check" + port + ".example.org");
      put("services/check" + port + "/health_check_port", port);
      put("services/check" + port + "/b1", good);
      refused.add("services/check" + port + "/health_check_port");
      absent.add("http-check" + port);
    }
    put("tcp-services/onadmin/external_port", Integer.toString(adminPort));
    put("tcp-services/onadmin/b1", good);
    refused.add("tcp-services/onadmin");
    absent.add("tcp-onadmin");

    // A port another process listens on: HAProxy's check cannot see it, the reload would fail.
    ServerSocket foreign = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
    put("tcp-services/foreign/external_port", Integer.toString(foreign.getLocalPort()));
    put("tcp-services/foreign/b1", good);
    refused.add("tcp-services/foreign");
    absent.add("tcp-foreign");

    // A privileged port: served when the daemon may bind it (root, as CI runs), else refused.
    int privileged = freePrivilegedPort();
    put("tcp-services/privileged/external_port", Integer.toString(privileged));
    put("tcp-services/privileged/b1", good);
    boolean root = "root".equals(System.getProperty("user.name"));

    try (DaemonProcess d =
        DaemonProcess.start(
            Map.of(
                "HAPROXY_ID",
                "classes",
                "ETCD_NODE",
                etcd.endpoints(),
                "CONFD_RESOLVER",
                "keys",
                "HTTPS_PORT",
                Integer.toString(httpsPort),
                "ADMIN_ADDRESS",
                "127.0.0.1:" + adminPort,
                "LOG_LEVEL",
                "debug"))) {
      Await.until(
          Duration.ofSeconds(60),
          d::describe,
          () -> RawHttp.get(d.http, "spaced.example.org", "/").status() == 200);

      List<String> problems = problems(d);
      String log = Files.readString(d.log);
      for (String key : refused) {
        assertTrue(problems.stream().anyMatch(l -> names(l, key)), key + " not named: " + problems);
        assertTrue(logNames(log, key), "the log does not name " + key);
      }
      assertTrue(
          problems.stream().anyMatch(l -> l.startsWith("services/raw\\ufffd")),
          "the service name with an invalid byte: " + problems);
      assertTrue(
          problems.stream()
              .anyMatch(
                  l ->
                      l.startsWith("services/unicode/domain")
                          && l.contains("xn--bcher-kva.example.org")),
          "the unicode host's punycode: " + problems);
      assertTrue(
          problems.stream().anyMatch(l -> l.startsWith("services/huge: 50000 backend keys")),
          "one line for 50,000 keys: " + problems);
      assertTrue(problems.size() < 100, problems.size() + " problems");

      HaproxyView view = HaproxyView.of(d);
      for (String backend : absent) {
        assertFalse(view.servers().containsKey(backend), "HAProxy has " + backend);
        assertEquals(List.of(), HostileInputIT.routesTo(view, backend), backend + " routed");
      }
      // Positive controls in the same view: an empty view, or backends named otherwise, would let
      // every absence above pass.
      for (String held : List.of("tcp-spacedtcp", "http-puny")) {
        assertEquals(Set.of(good), view.servers().get(held), held + " in HAProxy");
      }
      assertEquals(
          List.of("xn--bcher-kva.example.org"),
          HostileInputIT.routesTo(view, "http-puny"),
          "the routes read from HAProxy's maps");
      assertTrue(
          view.servers().keySet().stream().noneMatch(b -> b.contains("raw")),
          "HAProxy has a raw-named backend: " + view.servers().keySet());

      // Served: punycode, the first of two hosts differing by case, echo's values, the certs.
      assertEquals(200, RawHttp.get(d.http, "xn--bcher-kva.example.org", "/").status());
      assertTrue(
          RawHttp.get(d.http, "SHOP.example.org", "/").body().startsWith("backend=a"),
          "shop1 serves every spelling of its host");
      assertTrue(answers(spacedTcp), "the TCP service whose values end in a newline");
      for (String name : certs.keySet()) {
        X509Certificate[] served = RawHttp.peerChain(httpsPort, name + ".example.org");
        assertTrue(
            served[0].getSubjectX500Principal().getName().contains("CN=" + name + ".example.org"),
            name + ": " + served[0].getSubjectX500Principal());
        assertEquals(
            200,
            RawHttp.getTls(httpsPort, name + ".example.org", name + ".example.org", "/").status());
      }
      X509Certificate[] chained = RawHttp.peerChain(httpsPort, "chain.example.org");
      assertEquals(2, chained.length, "the leaf and its CA");
      assertEquals(
          chained[0].getIssuerX500Principal(),
          chained[1].getSubjectX500Principal(),
          "leaf first, then its issuer, though the bundle had them the other way round");

      if (root) {
        assertTrue(answers(privileged), "root binds the privileged port " + privileged);
      } else {
        assertTrue(
            problems.stream().anyMatch(l -> names(l, "tcp-services/privileged")),
            "a privileged port the daemon may not bind is named: " + problems);
      }
      assertTrue(
          problems.stream().anyMatch(l -> names(l, "tcp-services/foreign") && l.contains("in use")),
          "the foreign port's reason: " + problems);
      HostileInputIT.assertNothingInjected(d, false);
    } finally {
      foreign.close();
    }
  }

  /** A port under 1024 free on loopback (root finds one by binding it), else 1023. */
  static int freePrivilegedPort() {
    for (int port = 1023; port > 900; port--) {
      try (ServerSocket s = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
        return port;
      } catch (IOException taken) {
        // next
      }
    }
    return 1023;
  }

  static ByteSequence bytes(String s) {
    return EtcdWrites.bytes(s);
  }

  static void putBytes(ByteSequence key, byte[] value) throws Exception {
    client.getKVClient().put(key, ByteSequence.from(value)).get(10, TimeUnit.SECONDS);
  }

  static void putBytes(byte[] key, byte[] value) throws Exception {
    putBytes(ByteSequence.from(key), value);
  }

  static void put(String key, String value) throws Exception {
    EtcdWrites.put(client, PREFIX + key, value);
  }
}
