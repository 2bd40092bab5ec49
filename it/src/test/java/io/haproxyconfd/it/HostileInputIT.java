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
import io.haproxyconfd.domain.Problem;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
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
  static EchoBackend elsewhere; // on 127.0.0.2: a second live address
  static Client client;

  @BeforeAll
  static void setUp() throws Exception {
    a = new EchoBackend("a");
    elsewhere = new EchoBackend("elsewhere", java.net.InetAddress.getByName("127.0.0.2"), 0);
    client = Client.builder().endpoints(etcd.endpoints()).build();
  }

  @AfterAll
  static void tearDown() {
    client.close();
    a.close();
    elsewhere.close();
  }

  /** A case of the corpus, moved to a service of its own. */
  record Placed(String key, String value, String folder, String host, int tcpPort) {
    /** The backend HAProxy would have for it: {@code http-bad12}, {@code tcp-badtcp40}. */
    String backend() {
      return (folder.startsWith("tcp-") ? "tcp-" : "http-")
          + folder.substring(folder.indexOf('/') + 1);
    }
  }

  static boolean isHostList(String key) {
    return key.endsWith("/domain") || key.endsWith("/virtual_hosts");
  }

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
        String key = c.key().replace("services/bad/", folder + "/");
        // A hostile host list is the service's only one: nothing good is written first, so the
        // check below is on the hostile value itself.
        boolean hosts = isHostList(key);
        if (!hosts) {
          keys.put(folder + "/domain", "bad" + i + ".example.org");
        }
        keys.put(folder + "/b1", a.backend().toString());
        keys.put(key, c.value());
        cases.add(new Placed(key, c.value(), folder, hosts ? null : "bad" + i + ".example.org", 0));
      } else {
        String folder = "tcp-services/badtcp" + i;
        String key = c.key().replace("tcp-services/badtcp/", folder + "/");
        boolean external = key.endsWith("/external_port");
        int port = DaemonProcess.freePort();
        if (!external) {
          keys.put(folder + "/external_port", Integer.toString(port));
        }
        keys.put(folder + "/internal_port", Integer.toString(a.port()));
        keys.put(folder + "/b1", a.backend().toString());
        keys.put(key, c.value());
        cases.add(new Placed(key, c.value(), folder, null, external ? 0 : port));
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
    // by one, so that which came first is known (the bulk write has 64 puts in flight); clashb
    // first, so that the first written wins, not the first by name.
    Map<String, String> later = new LinkedHashMap<>();
    int shared = DaemonProcess.freePort();
    for (String name : List.of("clashb", "clasha")) {
      later.put("tcp-services/" + name + "/external_port", Integer.toString(shared));
      later.put("tcp-services/" + name + "/b1", a.backend().toString());
    }
    expectedProblemKeys.add("tcp-services/clasha");
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
                Integer.toString(statsPort),
                "LOG_LEVEL",
                "debug"))) {
      Await.until(
          Duration.ofSeconds(60),
          d::describe,
          () ->
              RawHttp.get(d.http, "good" + (GOOD_HTTP - 1) + ".example.org", "/").status() == 200);

      deleteWhileApplying(d);

      // The services written after the start went into spare backends through the runtime API.
      assertNothingInjected(d, true);

      // Every bad case named by its key (or its service) with a reason, in /status and the log.
      List<String> problems = problems(d);
      String log = Files.readString(d.log);
      for (Placed p : cases) {
        assertTrue(
            problems.stream().anyMatch(l -> names(l, p.key()) || names(l, p.folder())),
            "no problem reported for " + p.key() + "=" + shorten(p.value()));
        assertTrue(
            logNames(log, p.key()) || logNames(log, p.folder()),
            "the log does not name " + p.key());
      }
      for (String key : expectedProblemKeys) {
        assertTrue(
            problems.stream().anyMatch(l -> names(l, key)), "no problem reported for " + key);
        assertTrue(logNames(log, key), "the log does not name " + key);
      }

      // What HAProxy holds: a service left out has no backend and no route to it, and is not
      // served; one that only lost a key is in HAProxy and serves.
      HaproxyView view = HaproxyView.of(d);
      for (Placed p : cases) {
        // What the README promises, not what the daemon says: a bad value leaves its new service
        // out, except a bad certificate (served on HTTP only) and a bad upstreams/ backend key.
        boolean leftOut = !(p.key().endsWith("/cert") || p.key().contains("/upstreams/"));
        String effect = leftOut ? "service left out" : "key ignored";
        assertTrue(
            problems.stream()
                .anyMatch(
                    l -> (names(l, p.key()) || names(l, p.folder())) && l.endsWith("; " + effect)),
            p.key() + "=" + shorten(p.value()) + " is not reported as '" + effect + "'");
        if (leftOut) {
          assertFalse(
              view.servers().containsKey(p.backend()),
              p.key() + " left out, but HAProxy has backend " + p.backend());
          assertEquals(
              List.of(), routesTo(view, p.backend()), p.key() + " left out, but HAProxy routes");
          if (p.host() != null) {
            assertEquals(
                503, RawHttp.get(d.http, p.host(), "/").status(), p.key() + " is still served");
          }
          if (p.tcpPort() > 0) {
            assertFalse(answers(p.tcpPort()), p.key() + " still listens on " + p.tcpPort());
          }
        } else {
          assertTrue(
              view.servers().containsKey(p.backend()),
              p.key() + ": only a key was ignored, yet HAProxy has no " + p.backend());
          if (p.host() != null) {
            assertEquals(
                200, RawHttp.get(d.http, p.host(), "/").status(), p.key() + " is not served");
          }
          if (p.tcpPort() > 0) {
            assertTrue(answers(p.tcpPort()), p.key() + " does not listen on " + p.tcpPort());
          }
        }
      }
      for (String clash : List.of("http-samehost", "tcp-clasha", "tcp-onhttp", "tcp-onstats")) {
        assertFalse(view.servers().containsKey(clash), clash + " left out, but HAProxy has it");
      }
      // Positive controls in the same view: the first of a clash, and good HTTP and TCP
      // services, are held by their names, so an empty view or a renamed backend cannot pass.
      Set<String> onlyA = Set.of(a.backend().toString());
      for (String held : List.of("tcp-clashb", "tcp-goodtcp0", "http-good0")) {
        assertEquals(onlyA, view.servers().get(held), held + " in HAProxy");
      }
      assertTrue(answers(shared), "clashb, the first on port " + shared + ", answers");
      // Every hostile host list was made from bad.example.org, which no service has.
      assertEquals(503, RawHttp.get(d.http, "bad.example.org", "/").status());
      for (int g = 0; g < GOOD_HTTP; g++) {
        assertEquals(
            200,
            RawHttp.get(d.http, "good" + g + ".example.org", "/").status(),
            "good" + g + " answers");
      }
      for (int port : goodTcpPorts) {
        assertTrue(answers(port), "good TCP service on " + port + " answers");
      }

      hostileChangesOfLiveServices(d);
      // The hostile changes above keep their services' last good versions, so HAProxy is told
      // nothing of them; good changes beside them go through the runtime API, and what it is told
      // is checked as well.
      goodRuntimeChanges(d);
      assertNothingInjected(d, true);
    }
  }

  /**
   * Hostile values written while the daemon serves, as changes of live services: a second backend's
   * address, and the host list. The runtime path (server slots, host map) gets them if anything
   * does. Each live service keeps serving its last good hosts from its first backend, and HAProxy
   * never holds the hostile value.
   */
  private void hostileChangesOfLiveServices(DaemonProcess d) throws Exception {
    String first = "127.0.0.1:" + a.port();
    String second = elsewhere.backend().toString();
    List<String> backends = new ArrayList<>();
    List<String> hosts = new ArrayList<>();
    for (String breaker : HostileCorpus.breakers()) {
      backends.add("1" + breaker + second.substring(1));
      if (!breaker.equals(" ") && !breaker.equals("\t")) {
        hosts.add("l" + breaker + "ive.example.org"); // a space or tab separates hosts: not hostile
      }
    }
    backends.addAll(HostileCorpus.badBackends());
    backends.add(second + "x".repeat(100_000));
    for (String host : HostileCorpus.badHosts()) {
      hosts.add(host.replace("bad", "live"));
    }
    Map<String, String> written = new LinkedHashMap<>();
    int n = 0;
    for (String value : backends) {
      written.put("services/live" + n++ + "/b2", value);
    }
    for (String value : hosts) {
      written.put("services/live" + n++ + "/domain", value);
    }
    for (int j = 0; j < n; j++) {
      put("services/live" + j + "/domain", "live" + j + ".example.org");
      put("services/live" + j + "/b1", first);
      put("services/live" + j + "/b2", second);
    }
    Await.until(
        Duration.ofSeconds(30),
        d::describe,
        () -> {
          HaproxyView v = HaproxyView.of(d);
          return java.util.stream.IntStream.range(0, written.size())
              .allMatch(j -> Set.of(first, second).equals(v.servers().get("http-live" + j)));
        });
    for (var kv : written.entrySet()) {
      put(kv.getKey(), kv.getValue());
    }
    Await.until(
        Duration.ofSeconds(30),
        d::describe,
        () -> {
          List<String> problems = problems(d);
          return written.keySet().stream()
              .allMatch(
                  k ->
                      problems.stream()
                          .anyMatch(
                              l ->
                                  names(l, k)
                                      && l.endsWith("; its last good version keeps serving")));
        });
    HaproxyView view = HaproxyView.of(d);
    for (int j = 0; j < n; j++) {
      String backend = "http-live" + j;
      // Both backends: a hostile b2 that were merely ignored would leave HAProxy with b1 alone.
      assertEquals(Set.of(first, second), view.servers().get(backend), backend + " in HAProxy");
      assertEquals(
          List.of("live" + j + ".example.org"),
          routesTo(view, backend),
          backend + " is routed by its last good hosts alone");
      assertEquals(
          200,
          RawHttp.get(d.http, "live" + j + ".example.org", "/").status(),
          "live" + j + " answers after " + written.keySet().toArray()[j]);
    }
  }

  /**
   * Ten good services get another backend address, then a second host: runtime API changes (a
   * change of both at once reloads).
   */
  private void goodRuntimeChanges(DaemonProcess d) throws Exception {
    String moved = elsewhere.backend().toString();
    long reloads = d.metric("haproxy_confd_applies_total{outcome=\"reloaded\"}");
    Set<Long> workers = d.workers();
    for (int g = 0; g < 10; g++) {
      put("services/good" + g + "/b1", moved);
    }
    Await.until(
        Duration.ofSeconds(30),
        d::describe,
        () -> {
          HaproxyView v = HaproxyView.of(d);
          return java.util.stream.IntStream.range(0, 10)
              .allMatch(g -> Set.of(moved).equals(v.servers().get("http-good" + g)));
        });
    for (int g = 0; g < 10; g++) {
      put("services/good" + g + "/domain", "good" + g + ".example.org,more" + g + ".example.org");
    }
    Await.until(
        Duration.ofSeconds(30),
        d::describe,
        () -> {
          HaproxyView v = HaproxyView.of(d);
          return java.util.stream.IntStream.range(0, 10)
              .allMatch(g -> routesTo(v, "http-good" + g).contains("more" + g + ".example.org"));
        });
    for (int g = 0; g < 10; g++) {
      assertTrue(
          RawHttp.get(d.http, "more" + g + ".example.org", "/")
              .body()
              .startsWith("backend=elsewhere"),
          "more" + g + " served by the moved backend");
    }
    // HAProxy's own processes say it did not reload: no worker is new (an old one may have left).
    Set<Long> now = d.workers();
    assertTrue(
        !now.isEmpty() && workers.containsAll(now),
        "HAProxy reloaded for runtime changes: workers " + workers + ", then " + now);
    assertEquals(
        reloads,
        d.metric("haproxy_confd_applies_total{outcome=\"reloaded\"}"),
        "the good changes went through the runtime API");
  }

  /**
   * Nothing from a value reaches HAProxy as anything but the value it was meant to be: every file
   * the daemon wrote for HAProxy (configs, maps, certificate lists, certificates) holds printable
   * ASCII only and no payload, and every runtime API command it sent (logged at debug) has the
   * shape of one of the few commands it sends.
   */
  static void assertNothingInjected(DaemonProcess d, boolean runtimeChangesMade) throws Exception {
    // The daemon's own records, never read by HAProxy, are left alone: the keys as they were
    // (JSON), the random cookie key and HAProxy's pid.
    Set<String> own = Set.of("last-good.json", "cookie.key", "haproxy.pid");
    List<Path> files = new ArrayList<>();
    Files.walkFileTree(
        d.stateDir,
        new java.nio.file.SimpleFileVisitor<>() {
          @Override
          public java.nio.file.FileVisitResult visitFile(
              Path file, java.nio.file.attribute.BasicFileAttributes attrs) {
            if (attrs.isRegularFile() && !own.contains(file.getFileName().toString())) {
              files.add(file);
            }
            return java.nio.file.FileVisitResult.CONTINUE;
          }

          @Override
          public java.nio.file.FileVisitResult visitFileFailed(Path file, IOException e) {
            return java.nio.file.FileVisitResult.CONTINUE; // an old generation, cleaned up
          }
        });
    assertTrue(
        files.stream().anyMatch(f -> f.getFileName().toString().equals("host.map")),
        "the maps were read: " + files);
    for (Path file : files) {
      String text;
      try {
        text = Files.readString(file, StandardCharsets.ISO_8859_1);
      } catch (java.nio.file.NoSuchFileException gone) {
        continue; // an old generation, cleaned up meanwhile
      }
      for (String forbidden : PAYLOADS) {
        assertFalse(text.contains(forbidden), file + " holds " + forbidden.strip());
      }
      assertTrue(
          text.chars().allMatch(ch -> ch == '\n' || (ch >= 0x20 && ch < 0x7f)),
          file + " holds a character outside printable ASCII");
    }
    List<String> commands = new ArrayList<>();
    for (String line : Files.readAllLines(d.log, StandardCharsets.ISO_8859_1)) {
      int at = line.indexOf(" DEBUG runtime API: ");
      if (at >= 0) {
        commands.add(line.substring(at + " DEBUG runtime API: ".length()));
      }
    }
    assertTrue(
        commands.isEmpty() != runtimeChangesMade,
        commands.size() + " runtime API commands logged (LOG_LEVEL=debug)");
    for (String command : commands) {
      assertTrue(
          RUNTIME_COMMANDS.stream().anyMatch(p -> p.matcher(command).matches()),
          "a runtime API command of unexpected shape: " + command);
    }
  }

  /** Pieces of the corpus's payloads that have no business in anything HAProxy reads. */
  static final List<String> PAYLOADS =
      List.of("evil", "6.6.6.6", "#comment", "%[req", "`", "\u0000", "\r", "\t");

  /** The commands the daemon sends, with their arguments as narrow as the values allow. */
  static final List<Pattern> RUNTIME_COMMANDS =
      List.of(
          Pattern.compile("set severity-output number"),
          Pattern.compile(
              "set server [a-z]+-[A-Za-z0-9_.-]+/s[0-9]+ addr [0-9a-f.:]+ port [0-9]{1,5}"),
          Pattern.compile("set server [a-z]+-[A-Za-z0-9_.-]+/s[0-9]+ state (ready|maint)"),
          Pattern.compile("del map /[^ ]+\\.map [a-z0-9.*-]+"),
          Pattern.compile("add map /[^ ]+\\.map [a-z0-9.*-]+ (http|spare)-[A-Za-z0-9_.-]+"),
          Pattern.compile(
              "add server [a-z]+-[A-Za-z0-9_.-]+/s[0-9]+ [0-9a-f.:\\[\\]]+:[0-9]{1,5}"
                  + "( check inter [0-9]+ fall 3 rise 2( port [0-9]{1,5})?)?"),
          Pattern.compile("enable health [a-z]+-[A-Za-z0-9_.-]+/s[0-9]+"));

  /** The keys HAProxy's maps route to {@code backend}. */
  static List<String> routesTo(HaproxyView view, String backend) {
    List<String> keys = new ArrayList<>();
    view.maps()
        .values()
        .forEach(
            entries ->
                entries.stream()
                    .filter(e -> e.endsWith(" " + backend))
                    .forEach(e -> keys.add(e.substring(0, e.length() - backend.length() - 1))));
    return keys;
  }

  /**
   * Whether the daemon's log has a problem line about {@code key}, escaped as it logs keys: the
   * text after {@code WARN} names it as {@link #names} does, so {@code services/} does not match a
   * line about {@code services/web}.
   */
  static boolean logNames(String log, String key) {
    return log.lines()
        .map(l -> l.indexOf(" WARN ") < 0 ? "" : l.substring(l.indexOf(" WARN ") + 6))
        .anyMatch(l -> names(l, key));
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
    String shown = Problem.printable(key);
    return line.startsWith(shown + "=\"")
        || line.startsWith(shown + ": ")
        || line.startsWith(shown + "/");
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
