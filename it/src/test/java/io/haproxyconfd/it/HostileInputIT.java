package io.haproxyconfd.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonParser;
import io.etcd.jetcd.Client;
import io.haproxyconfd.adapters.etcd.EtcdCluster;
import io.haproxyconfd.adapters.haproxy.EchoBackend;
import io.haproxyconfd.adapters.haproxy.RawHttp;
import io.haproxyconfd.domain.Await;
import io.haproxyconfd.domain.HostileCorpus;
import java.io.IOException;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The hostile-input corpus through the whole product: every case of {@link HostileCorpus} as a
 * service of its own, plus port and route clashes, unknown keys, bad service names and services
 * deleted while they are being applied, all beside 1,000 good HTTP and 10 good TCP services, in one
 * store read by one daemon driving a real HAProxy. What must hold: nothing from a value reaches
 * haproxy.cfg as a line of its own, every bad case is reported by its key with a reason, every
 * service left out is not served, and every good service answers.
 */
class HostileInputIT {
  @RegisterExtension static EtcdCluster etcd = EtcdCluster.of(1);

  static final String PREFIX = "/haproxy-hostile/";
  static final int GOOD_HTTP = 1000;
  static final int GOOD_TCP = 10;

  static EchoBackend a;
  static Client client;

  @BeforeAll
  static void setUp() throws Exception {
    a = new EchoBackend("a");
    client = Client.builder().endpoints(etcd.endpoints()).build();
  }

  @AfterAll
  static void tearDown() {
    client.close();
    a.close();
  }

  /** A case of the corpus, moved to a service of its own. */
  record Placed(String key, String value, String folder, String host, int tcpPort) {}

  @Test
  void hostile_values_inject_nothing_are_reported_by_key_and_harm_no_good_service()
      throws Exception {
    int statsPort = DaemonProcess.freePort();
    int httpPort = DaemonProcess.freePort();
    Map<String, String> keys = new LinkedHashMap<>();
    List<Placed> cases = new ArrayList<>();
    List<String> expectedProblemKeys = new ArrayList<>();

    int i = 0;
    for (HostileCorpus.Case c : HostileCorpus.cases().toList()) {
      i++;
      if (c.key().startsWith("services/bad/")) {
        String folder = "services/bad" + i;
        String host = "bad" + i + ".example.org";
        keys.put(folder + "/domain", host);
        keys.put(folder + "/b1", a.backend().toString());
        String key = c.key().replace("services/bad/", folder + "/");
        keys.put(key, c.value());
        cases.add(new Placed(key, c.value(), folder, host, 0));
      } else {
        String folder = "tcp-services/badtcp" + i;
        int port = DaemonProcess.freePort();
        keys.put(folder + "/external_port", Integer.toString(port));
        keys.put(folder + "/internal_port", Integer.toString(a.port()));
        keys.put(folder + "/b1", a.backend().toString());
        String key = c.key().replace("tcp-services/badtcp/", folder + "/");
        keys.put(key, c.value());
        cases.add(new Placed(key, c.value(), folder, null, port));
      }
    }
    for (int g = 0; g < GOOD_HTTP; g++) {
      keys.put("services/good" + g + "/domain", "good" + g + ".example.org");
      keys.put("services/good" + g + "/b1", a.backend().toString());
    }
    List<Integer> goodTcpPorts = new ArrayList<>();
    for (int g = 0; g < GOOD_TCP; g++) {
      int port = DaemonProcess.freePort();
      goodTcpPorts.add(port);
      keys.put("tcp-services/goodtcp" + g + "/external_port", Integer.toString(port));
      keys.put("tcp-services/goodtcp" + g + "/internal_port", Integer.toString(a.port()));
      keys.put("tcp-services/goodtcp" + g + "/b1", a.backend().toString());
    }

    // Clashes: the service that came later is left out and named. Written after the rest, one
    // by one, so that which came first is known (the bulk write has 64 puts in flight).
    Map<String, String> later = new LinkedHashMap<>();
    int shared = DaemonProcess.freePort();
    for (String name : List.of("clasha", "clashb")) {
      later.put("tcp-services/" + name + "/external_port", Integer.toString(shared));
      later.put("tcp-services/" + name + "/b1", a.backend().toString());
    }
    expectedProblemKeys.add("tcp-services/clashb");
    for (var taken : Map.of("onhttp", httpPort, "onstats", statsPort).entrySet()) {
      keys.put("tcp-services/" + taken.getKey() + "/external_port", taken.getValue().toString());
      keys.put("tcp-services/" + taken.getKey() + "/b1", a.backend().toString());
      expectedProblemKeys.add("tcp-services/" + taken.getKey());
    }
    later.put("services/samehost/domain", "good0.example.org");
    later.put("services/samehost/b1", a.backend().toString());
    expectedProblemKeys.add("services/samehost");
    // Unknown keys are ignored, named, and leave their service alone.
    keys.put("services/good1/colour", "blue");
    keys.put("tcp-services/goodtcp0/colour", "blue");
    keys.put("frobnicate/x", "1");
    expectedProblemKeys.addAll(
        List.of("services/good1/colour", "tcp-services/goodtcp0/colour", "frobnicate/x"));
    // Service names that are no names.
    for (String name : List.of("bad name", "-dash", "x".repeat(64), "semi;colon", "new\nline")) {
      keys.put("services/" + name + "/domain", "named.example.org");
      keys.put("services/" + name + "/b1", a.backend().toString());
      expectedProblemKeys.add("services/" + name);
    }
    int total = cases.size() + expectedProblemKeys.size();
    assertTrue(total >= 300, "at least 300 hostile cases, was " + total);

    List<Map.Entry<String, String>> pairs = new ArrayList<>();
    keys.forEach((k, v) -> pairs.add(Map.entry(PREFIX + k, v)));
    EtcdWrites.putAll(client, pairs, Duration.ofSeconds(60));
    for (var kv : later.entrySet()) {
      put(kv.getKey(), kv.getValue());
    }
    try (DaemonProcess d =
        DaemonProcess.start(
            Map.of(
                "HAPROXY_ID",
                "hostile",
                "ETCD_NODE",
                etcd.endpoints(),
                "CONFD_RESOLVER",
                "keys",
                "HTTP_PORT",
                Integer.toString(httpPort),
                "STATS_PORT",
                Integer.toString(statsPort)))) {
      Await.until(
          Duration.ofSeconds(60),
          d::describe,
          () ->
              RawHttp.get(d.http, "good" + (GOOD_HTTP - 1) + ".example.org", "/").status() == 200);

      deleteWhileApplying(d);

      // Nothing injected: no payload in the file HAProxy runs, and only printable ASCII in it.
      String cfg = Files.readString(d.stateDir.resolve("haproxy.cfg"));
      for (String forbidden :
          List.of("evil", "6.6.6.6", "#comment", "%[req", "`", "\u0000", "\r", "\t")) {
        assertFalse(cfg.contains(forbidden), "haproxy.cfg holds " + forbidden.strip());
      }
      assertTrue(
          cfg.chars().allMatch(ch -> ch == '\n' || (ch >= 0x20 && ch < 0x7f)),
          "haproxy.cfg holds a character outside printable ASCII");

      // Every bad case named by its key (or its service) with a reason.
      List<String> problems = problems(d);
      for (Placed p : cases) {
        assertTrue(
            problems.stream().anyMatch(l -> names(l, p.key()) || names(l, p.folder())),
            "no problem reported for " + p.key() + "=" + shorten(p.value()));
      }
      for (String key : expectedProblemKeys) {
        assertTrue(
            problems.stream().anyMatch(l -> names(l, key)), "no problem reported for " + key);
      }

      // A service left out is not served; every good service is.
      for (Placed p : cases) {
        boolean leftOut =
            problems.stream()
                .anyMatch(
                    l ->
                        (names(l, p.key()) || names(l, p.folder()))
                            && l.endsWith("service left out"));
        if (!leftOut) {
          continue;
        }
        if (p.host() != null) {
          assertEquals(
              503, RawHttp.get(d.http, p.host(), "/").status(), p.key() + " is still served");
        } else {
          assertFalse(answers(p.tcpPort()), p.key() + " still listens on " + p.tcpPort());
        }
      }
      for (int g = 0; g < GOOD_HTTP; g++) {
        assertEquals(
            200,
            RawHttp.get(d.http, "good" + g + ".example.org", "/").status(),
            "good" + g + " answers");
      }
      for (int port : goodTcpPorts) {
        assertTrue(answers(port), "good TCP service on " + port + " answers");
      }
    }
  }

  /**
   * Fifty services written and deleted again as fast as the client goes, while the daemon applies:
   * in the end none of them is served and the service written after them is.
   */
  private void deleteWhileApplying(DaemonProcess d) throws Exception {
    for (int round = 0; round < 5; round++) {
      for (int s = 0; s < 10; s++) {
        put("services/fleeting" + s + "/domain", "fleeting" + s + ".example.org");
        put("services/fleeting" + s + "/b1", a.backend().toString());
      }
      EtcdWrites.deletePrefix(client, PREFIX + "services/fleeting");
    }
    put("services/after/domain", "after.example.org");
    put("services/after/b1", a.backend().toString());
    Await.until(
        Duration.ofSeconds(30),
        d::describe,
        () -> RawHttp.get(d.http, "after.example.org", "/").status() == 200);
    for (int s = 0; s < 10; s++) {
      assertEquals(503, RawHttp.get(d.http, "fleeting" + s + ".example.org", "/").status());
    }
  }

  /**
   * Whether a problem line is about {@code key}: the key, then its value or the reason; or, for a
   * service's folder, one of its keys.
   */
  static boolean names(String line, String key) {
    return line.startsWith(key + "=\"")
        || line.startsWith(key + ": ")
        || line.startsWith(key + "/");
  }

  static List<String> problems(DaemonProcess d) throws Exception {
    List<String> out = new ArrayList<>();
    JsonParser.parseString(d.status())
        .getAsJsonObject()
        .getAsJsonArray("problems")
        .forEach(e -> out.add(e.getAsString()));
    return out;
  }

  static boolean answers(int port) {
    try {
      return RawHttp.get(port, "tcp.example.org", "/").status() == 200;
    } catch (IOException e) {
      return false;
    }
  }

  static String shorten(String value) {
    return value.length() > 80 ? value.substring(0, 80) + "..." : value;
  }

  static void put(String key, String value) throws Exception {
    EtcdWrites.put(client, PREFIX + key, value);
  }
}
