package io.haproxyconfd.adapters.haproxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.haproxyconfd.domain.Await;
import io.haproxyconfd.domain.Problem;
import io.haproxyconfd.ports.ApplyResult;
import io.haproxyconfd.ports.ApplyResult.Outcome;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Which changes reload and which do not; the worker PIDs tell. */
class ApplyIT {
  @RegisterExtension static HaproxyFixture haproxy = new HaproxyFixture();
  static EchoBackend a;
  static EchoBackend b;
  static EchoBackend c;

  @BeforeAll
  static void backends() throws Exception {
    a = new EchoBackend("a");
    b = new EchoBackend("b");
    c = new EchoBackend("c");
  }

  @AfterAll
  static void stopBackends() {
    a.close();
    b.close();
    c.close();
  }

  /** A relay in front of HAProxy's admin socket that rewrites each command on its way. */
  private static SocketRelay adminRelay(java.util.function.UnaryOperator<String> rewrite)
      throws Exception {
    java.nio.file.Path socket = haproxy.stateDir().resolve("run/admin.sock");
    return SocketRelay.inFrontOf(socket, socket.resolveSibling("admin-real.sock"), rewrite);
  }

  /** A relay that passes each command on unchanged and keeps it in {@code sent}. */
  private static SocketRelay recording(List<String> sent) throws Exception {
    return adminRelay(
        cmd -> {
          sent.add(cmd);
          return cmd;
        });
  }

  private static String backendOf(String host) throws Exception {
    return RawHttp.get(haproxy.http(), host, "/").body().split(" ")[0];
  }

  /**
   * Applies {@code keys} with HAProxy's slots laid out afresh for them, whatever an earlier test of
   * this class left: first with a service of settings of its own beside them (a reload, which sizes
   * every backend's slots anew), then without it.
   */
  private static void laidOutAfresh(String... keys) throws Exception {
    List<String> more = new java.util.ArrayList<>(List.of(keys));
    more.addAll(
        List.of(
            "services/zz-fresh/domain", "fresh.example.org",
            "services/zz-fresh/balance", "source",
            "services/zz-fresh/w1", c.backend().toString()));
    ApplyResult r = haproxy.apply(more.toArray(String[]::new));
    assertEquals(Outcome.RELOADED, r.outcome(), "slots laid out afresh: " + r);
    haproxy.apply(keys);
  }

  /**
   * The bits of {@code srv_check_state} that say how a server is checked (configured, enabled,
   * paused, agent, port missing), without those of a check under way at the moment of asking.
   */
  private static int checkedHow(List<String> columns) {
    return Integer.parseInt(columns.get(0)) & 0x3e;
  }

  @Test
  void backend_changes_go_through_the_runtime_api_without_a_reload() throws Exception {
    haproxy.apply("services/web/domain", "example.org", "services/web/w1", a.backend().toString());
    List<Long> workers = haproxy.workers();

    ApplyResult moved =
        haproxy.apply(
            "services/web/domain", "example.org", "services/web/w1", b.backend().toString());
    assertEquals(Outcome.RUNTIME_UPDATE, moved.outcome(), moved.toString());
    assertEquals("backend=b", backendOf("example.org"));
    assertEquals(workers, haproxy.workers(), "no reload");
    Await.until(
        java.time.Duration.ofSeconds(5),
        "haproxy.cfg holds the new address, so a restart keeps the change",
        () ->
            Files.readString(haproxy.stateDir().resolve("haproxy.cfg"))
                .contains("127.0.0.1:" + b.port()));

    ApplyResult scaled =
        haproxy.apply(
            "services/web/domain", "example.org",
            "services/web/w1", b.backend().toString(),
            "services/web/w2", c.backend().toString());
    assertEquals(Outcome.RUNTIME_UPDATE, scaled.outcome());
    java.util.Set<String> seen = new java.util.TreeSet<>();
    for (int i = 0; i < 6; i++) {
      seen.add(backendOf("example.org"));
    }
    assertEquals(java.util.Set.of("backend=b", "backend=c"), seen, "round robin over both");
    assertEquals(workers, haproxy.workers());

    ApplyResult same =
        haproxy.apply(
            "services/web/domain", "example.org",
            "services/web/w1", b.backend().toString(),
            "services/web/w2", c.backend().toString());
    assertEquals(Outcome.UNCHANGED, same.outcome());
  }

  @Test
  void a_change_haproxy_refuses_at_runtime_reloads_instead() throws Exception {
    laidOutAfresh("services/web/domain", "example.org", "services/web/w1", a.backend().toString());
    HaproxySocket socket = new HaproxySocket(haproxy.stateDir());
    // The slot the moved backend goes into disappears behind the configurator's back, so HAProxy
    // really refuses the change: "No such server."
    assertEquals(
        List.of("s1"),
        socket.servers("http-web").stream().map(HaproxySocket.Server::name).toList());
    socket.send("disable server http-web/s1");
    String deleted = socket.send("del server http-web/s1");
    assertTrue(deleted.contains("Server deleted"), deleted);
    List<Long> workers = haproxy.workers();

    ApplyResult r;
    try (SocketRelay relay = adminRelay(cmd -> cmd)) {
      r =
          haproxy.apply(
              "services/web/domain", "example.org", "services/web/w1", b.backend().toString());
      assertTrue(
          relay.answers().stream().anyMatch(x -> x.contains("No such server")),
          "HAProxy refused the runtime change: " + relay.answers());
    }

    assertEquals(Outcome.RELOADED, r.outcome(), r.toString());
    assertNotEquals(workers, haproxy.workers());
    assertEquals(
        List.of(b.backend().toString()),
        socket.servers("http-web").stream()
            .filter(HaproxySocket.Server::filled)
            .map(HaproxySocket.Server::endpoint)
            .toList(),
        "HAProxy holds the moved backend after the reload");
    assertEquals("backend=b", backendOf("example.org"));
  }

  /**
   * A backend that can grow and has no server yet still has one slot: its first server goes into
   * it, its second is added; both through the runtime API.
   */
  @Test
  void a_backend_with_no_server_yet_fills_its_slot_then_grows() throws Exception {
    laidOutAfresh("services/web/domain", "example.org");
    HaproxySocket socket = new HaproxySocket(haproxy.stateDir());
    assertEquals(
        List.of("s1"),
        socket.servers("http-web").stream().map(HaproxySocket.Server::name).toList());
    assertEquals("503", backendOf("example.org"), "no server to answer yet");
    List<Long> workers = haproxy.workers();

    ApplyResult one =
        haproxy.apply(
            "services/web/domain", "example.org", "services/web/w1", a.backend().toString());
    assertEquals(Outcome.RUNTIME_UPDATE, one.outcome(), one.toString());
    assertEquals("backend=a", backendOf("example.org"));
    ApplyResult two =
        haproxy.apply(
            "services/web/domain", "example.org",
            "services/web/w1", a.backend().toString(),
            "services/web/w2", b.backend().toString());
    assertEquals(Outcome.RUNTIME_UPDATE, two.outcome(), two.toString());
    java.util.Set<String> seen = new java.util.TreeSet<>();
    for (int i = 0; i < 6; i++) {
      seen.add(backendOf("example.org"));
    }
    assertEquals(java.util.Set.of("backend=a", "backend=b"), seen);
    assertEquals(
        java.util.Set.of(a.backend().toString(), b.backend().toString()),
        socket.servers("http-web").stream()
            .filter(HaproxySocket.Server::filled)
            .map(HaproxySocket.Server::endpoint)
            .collect(java.util.stream.Collectors.toSet()));
    assertEquals(workers, haproxy.workers(), "no reload");
  }

  /**
   * HAProxy answers an address it rejects with "[4]: Invalid addr", at the severity of a success,
   * so only reading the slots back shows the change did not take. A relay in front of the admin
   * socket rewrites every address the configurator sends into one HAProxy rejects; HAProxy's own
   * answer, not a made-up one, goes back.
   */
  @Test
  void an_address_haproxy_rejects_at_success_severity_is_read_back_and_reloads() throws Exception {
    haproxy.apply("services/web/domain", "example.org", "services/web/w1", a.backend().toString());
    List<Long> workers = haproxy.workers();
    try (SocketRelay relay = adminRelay(cmd -> cmd.replaceAll(" addr [^ ;]+", " addr 999.0.0.1"))) {
      ApplyResult r =
          haproxy.apply(
              "services/web/domain", "example.org", "services/web/w1", b.backend().toString());

      assertTrue(
          relay.answers().stream().anyMatch(x -> x.contains("[4]: Invalid addr")),
          "HAProxy answered the rewritten address: " + relay.answers());
      assertEquals(Outcome.RELOADED, r.outcome(), r.toString());
    }
    assertNotEquals(workers, haproxy.workers());
    assertEquals("backend=b", backendOf("example.org"));
  }

  /**
   * A map change HAProxy refuses (here sent to a map file it does not know, by a relay in front of
   * the admin socket) is told by its severity, and the change is made by a reload instead.
   */
  @Test
  void a_map_change_haproxy_refuses_reloads_instead() throws Exception {
    haproxy.apply("services/web/domain", "example.org", "services/web/w1", a.backend().toString());
    List<Long> workers = haproxy.workers();
    try (SocketRelay relay =
        adminRelay(cmd -> cmd.replaceAll("add map [^ ;]+", "add map /nowhere.map"))) {
      ApplyResult r =
          haproxy.apply(
              "services/web/domain",
              "example.org,new.example.org",
              "services/web/w1",
              a.backend().toString());

      assertTrue(
          relay.answers().stream().anyMatch(x -> x.contains("[3]:")),
          "HAProxy refused the rewritten map change: " + relay.answers());
      assertEquals(Outcome.RELOADED, r.outcome(), r.toString());
    }
    assertNotEquals(workers, haproxy.workers());
    assertEquals("backend=a", backendOf("new.example.org"));
  }

  @Test
  void more_servers_than_slots_are_added_at_runtime_checked_as_the_others() throws Exception {
    laidOutAfresh(
        "services/web/domain",
        "example.org",
        "services/web/health_check_uri",
        "/",
        "services/web/health_check_port",
        Integer.toString(a.port()),
        "services/web/w1",
        a.backend().toString());
    List<Long> workers = haproxy.workers();
    assertEquals(
        1, new HaproxySocket(haproxy.stateDir()).servers("http-web").size(), "a slot per server");
    ApplyResult r =
        haproxy.apply(
            "services/web/domain", "example.org",
            "services/web/health_check_uri", "/",
            "services/web/health_check_port", Integer.toString(a.port()),
            "services/web/w1", a.backend().toString(),
            "services/web/w2", b.backend().toString(),
            "services/web/w3", c.backend().toString());
    assertEquals(Outcome.RUNTIME_UPDATE, r.outcome(), r.toString());
    assertEquals(workers, haproxy.workers(), "no reload");
    java.util.Set<String> seen = new java.util.TreeSet<>();
    for (int i = 0; i < 6; i++) {
      seen.add(backendOf("example.org"));
    }
    assertEquals(java.util.Set.of("backend=a", "backend=b", "backend=c"), seen);
    // HAProxy's own record of each server's check: the one added at runtime is checked as the one
    // from the config is.
    Map<String, List<String>> state =
        serverStateColumns("http-web", "srv_check_state", "srv_check_port");
    assertEquals(Integer.toString(a.port()), state.get("s1").get(1), state.toString());
    for (String added : List.of("s2", "s3")) {
      assertEquals(checkedHow(state.get("s1")), checkedHow(state.get(added)), added + ": " + state);
      assertEquals(state.get("s1").get(1), state.get(added).get(1), added + ": " + state);
    }
    Await.until(
        java.time.Duration.ofSeconds(5),
        "haproxy.cfg declares the added server, so a reload or restart keeps it",
        () -> Files.readString(haproxy.stateDir().resolve("haproxy.cfg")).contains(" s3 "));
  }

  @Test
  void more_servers_than_slots_of_a_backend_haproxy_cannot_grow_reload_with_more_slots()
      throws Exception {
    haproxy.apply(
        "services/web/domain", "example.org",
        "services/web/balance", "source",
        "services/web/w1", a.backend().toString());
    List<Long> workers = haproxy.workers();
    String[] keys = new String[4 + 2 * 6];
    keys[0] = "services/web/domain";
    keys[1] = "example.org";
    keys[2] = "services/web/balance";
    keys[3] = "source";
    for (int i = 0; i < 6; i++) {
      keys[4 + 2 * i] = "services/web/w" + i;
      keys[5 + 2 * i] = "127.0.0." + (i + 1) + ":" + a.port();
    }
    ApplyResult r = haproxy.apply(keys);
    assertEquals(Outcome.RELOADED, r.outcome(), r.toString());
    assertNotEquals(workers, haproxy.workers());
    assertEquals(
        6,
        new HaproxySocket(haproxy.stateDir())
            .servers("http-web").stream().filter(HaproxySocket.Server::filled).count());
  }

  /** Columns of {@code show servers state} for each server of a backend, by server name. */
  private static Map<String, List<String>> serverStateColumns(String backend, String... columns)
      throws Exception {
    String[] lines =
        new HaproxySocket(haproxy.stateDir()).send("show servers state " + backend).split("\n");
    List<String> header = null;
    Map<String, List<String>> byServer = new java.util.TreeMap<>();
    for (String line : lines) {
      if (line.startsWith("# be_id")) {
        header = List.of(line.substring(2).split(" "));
      } else if (header != null && !line.isBlank() && !line.startsWith("#")) {
        List<String> fields = List.of(line.split(" "));
        List<String> picked = new java.util.ArrayList<>();
        for (String column : columns) {
          picked.add(fields.get(header.indexOf(column)));
        }
        byServer.put(fields.get(header.indexOf("srv_name")), picked);
      }
    }
    return byServer;
  }

  @Test
  void a_path_rule_of_a_service_that_keeps_its_paths_goes_without_a_reload() throws Exception {
    String w1 = a.backend().toString();
    haproxy.apply(
        "services/web/domain", "example.org",
        "services/web/url_beg", "/,/api",
        "services/web/keep_path", "true",
        "services/web/w1", w1);
    List<Long> workers = haproxy.workers();
    ApplyResult r =
        haproxy.apply(
            "services/web/domain", "example.org",
            "services/web/url_beg", "/",
            "services/web/keep_path", "true",
            "services/web/w1", w1);
    assertEquals(Outcome.RUNTIME_UPDATE, r.outcome(), r.toString());
    assertEquals(workers, haproxy.workers());
    assertEquals(
        "path=/api/x", RawHttp.get(haproxy.http(), "example.org", "/api/x").body().split(" ")[1]);
  }

  @Test
  void an_exact_host_route_is_added_and_removed_without_a_reload() throws Exception {
    haproxy.apply("services/web/domain", "example.org", "services/web/w1", a.backend().toString());
    List<Long> workers = haproxy.workers();
    ApplyResult added =
        haproxy.apply(
            "services/web/domain",
            "example.org,new.example.org",
            "services/web/w1",
            a.backend().toString());
    assertEquals(Outcome.RUNTIME_UPDATE, added.outcome(), added.toString());
    assertEquals("backend=a", backendOf("new.example.org"));
    ApplyResult removed =
        haproxy.apply(
            "services/web/domain", "new.example.org", "services/web/w1", a.backend().toString());
    assertEquals(Outcome.RUNTIME_UPDATE, removed.outcome(), removed.toString());
    assertEquals("503", Integer.toString(RawHttp.get(haproxy.http(), "example.org", "/").status()));
    assertEquals(workers, haproxy.workers());
    java.nio.file.Path hostMap =
        haproxy.stateDir().resolve("gen").resolve(lastGeneration()).resolve("maps/host.map");
    io.haproxyconfd.domain.Await.until(
        java.time.Duration.ofSeconds(5),
        "the map file on disk follows, for the next restart",
        () -> Files.readString(hostMap).equals("new.example.org http-web\n"));
  }

  /**
   * A prefix its backend takes off is a map line, changed at runtime with its route: added, the
   * path arrives without it; kept ({@code keep_path}), with it; gone, its cut goes with it.
   */
  @Test
  void a_stripped_prefix_changes_at_runtime_with_its_route() throws Exception {
    String w1 = a.backend().toString();
    haproxy.apply(
        "services/web/domain", "example.org", "services/web/url_beg", "/", "services/web/w1", w1);
    assertEquals("path=/api/x", pathAt("example.org", "/api/x"));
    List<Long> workers = haproxy.workers();
    String[] stripped = {
      "services/web/domain", "example.org", "services/web/url_beg", "/,/api/", "services/web/w1", w1
    };
    ApplyResult added = haproxy.apply(stripped);
    assertEquals(Outcome.RUNTIME_UPDATE, added.outcome(), added.toString());
    String withQuery = RawHttp.get(haproxy.http(), "example.org", "/api/x?q=1").body();
    assertTrue(withQuery.contains(" path=/x ") && withQuery.endsWith(" query=q=1\n"), withQuery);
    assertEquals("path=/", pathAt("example.org", "/api"));
    assertEquals("path=/other", pathAt("example.org", "/other"), "'/' takes nothing off");
    // web's '/' reaches into no other backend whose name begins as web's does.
    haproxy.apply(
        "services/web/domain", "example.org",
        "services/web/url_beg", "/,/api/",
        "services/web/w1", w1,
        "services/webx/domain", "x.example.org",
        "services/webx/balance", "source", // a backend of its own, http-webx, not a spare
        "services/webx/w1", w1);
    assertEquals("path=/api/x", pathAt("x.example.org", "/api/x"));
    haproxy.apply(stripped);
    workers = haproxy.workers();
    ApplyResult kept =
        haproxy.apply(
            "services/web/domain", "example.org",
            "services/web/url_beg", "/,/api/",
            "services/web/keep_path", "true",
            "services/web/w1", w1);
    assertEquals(Outcome.RUNTIME_UPDATE, kept.outcome(), kept.toString());
    assertEquals("path=/api/x", pathAt("example.org", "/api/x"));
    assertEquals(Outcome.RUNTIME_UPDATE, haproxy.apply(stripped).outcome());
    assertEquals("path=/x", pathAt("example.org", "/api/x"));
    ApplyResult gone =
        haproxy.apply(
            "services/web/domain",
            "example.org",
            "services/web/url_beg",
            "/",
            "services/web/w1",
            w1);
    assertEquals(Outcome.RUNTIME_UPDATE, gone.outcome(), gone.toString());
    assertEquals("path=/api/x", pathAt("example.org", "/api/x"));
    assertEquals(workers, haproxy.workers(), "no reload");
  }

  /**
   * A prefix taken off is in HAProxy before the route that leads to it, and leaves after: no
   * request reaches the backend with its prefix left on between two commands.
   */
  @Test
  void a_prefix_taken_off_is_sent_before_its_route_and_deleted_after_it() throws Exception {
    String w1 = a.backend().toString();
    // A wildcard host and a prefix: a map tried in order, replaced whole.
    haproxy.apply(
        "services/web/domain", "*.example.org",
        "services/web/url_beg", "/old",
        "services/web/w1", w1);
    List<String> sent = new java.util.concurrent.CopyOnWriteArrayList<>();
    try (SocketRelay relay = recording(sent)) {
      ApplyResult r =
          haproxy.apply(
              "services/web/domain", "*.example.org",
              "services/web/url_beg", "/new",
              "services/web/w1", w1);
      assertEquals(Outcome.RUNTIME_UPDATE, r.outcome(), r.toString());
    }
    String all = String.join("\n", sent);
    int cutAdded = all.indexOf("strip.map http-web/new http-web/new");
    int routeSwapped = all.indexOf("commit map");
    int cutGone = all.indexOf("del map " + haproxy.stateDir()); // the only line deleted
    assertTrue(
        0 <= cutAdded && cutAdded < routeSwapped && routeSwapped < cutGone,
        "the new cut, then the wildcard and path map replaced whole, then the old cut: " + all);
    assertTrue(all.substring(cutGone).startsWith("del map "), all);
    assertTrue(all.indexOf("strip.map http-web/old", cutGone) > 0, all);
    assertEquals("path=/x", pathAt("www.example.org", "/new/x"));
    assertEquals(503, RawHttp.get(haproxy.http(), "www.example.org", "/old/x").status());
  }

  /**
   * Prefix routes change line by line: HAProxy appends a line added at runtime, and still takes the
   * longest prefix that matches (map_beg looks its keys up in a prefix tree, not in file order).
   */
  @Test
  void a_longer_prefix_added_at_runtime_wins_where_haproxy_appends_it() throws Exception {
    String wa = a.backend().toString();
    String wb = b.backend().toString();
    String[] one = {
      "services/api/domain", "example.org",
      "services/api/url_beg", "/api",
      "services/api/keep_path", "true",
      "services/api/w1", wa,
      "services/any/url_beg", "/docs",
      "services/any/keep_path", "true",
      "services/any/w1", wa
    };
    laidOutAfresh(one);
    String[] two = java.util.Arrays.copyOf(one, one.length + 8);
    System.arraycopy(
        new String[] {
          "services/v2/domain", "example.org",
          "services/v2/url_beg", "/api/v2",
          "services/v2/balance", "source", // a backend of its own: a reload to begin with
          "services/v2/w1", wb
        },
        0,
        two,
        one.length,
        8);
    assertEquals(Outcome.RELOADED, haproxy.apply(two).outcome());
    assertEquals(
        List.of("example.org/api/v2 http-v2", "example.org/api http-api"),
        mapOf("host_path.map"),
        "a reload writes the longest first");
    // Moved to another prefix and back at runtime: now behind the shorter one in HAProxy's list.
    List<Long> workers = haproxy.workers();
    two[one.length + 3] = "/v3";
    assertEquals(Outcome.RUNTIME_UPDATE, haproxy.apply(two).outcome());
    two[one.length + 3] = "/api/v2";
    assertEquals(Outcome.RUNTIME_UPDATE, haproxy.apply(two).outcome());
    assertEquals(workers, haproxy.workers());
    assertEquals(
        List.of("example.org/api http-api", "example.org/api/v2 http-v2"), mapOf("host_path.map"));
    assertEquals(
        "backend=b", RawHttp.get(haproxy.http(), "example.org", "/api/v2/x").body().split(" ")[0]);
    assertEquals(
        "backend=a", RawHttp.get(haproxy.http(), "example.org", "/api/v1/x").body().split(" ")[0]);
    // A prefix that moves to another service in one change is set in place, never missing.
    List<String> sent = new java.util.concurrent.CopyOnWriteArrayList<>();
    try (SocketRelay relay = recording(sent)) {
      two[3] = "/api,/api/v2";
      two[one.length + 3] = "/v3";
      assertEquals(Outcome.RUNTIME_UPDATE, haproxy.apply(two).outcome());
    }
    String all = String.join("\n", sent);
    assertTrue(
        all.contains("set map ") && all.contains("host_path.map example.org/api/v2 http-api"), all);
    assertTrue(!all.contains("host_path.map example.org/api/v2\n"), "not deleted: " + all);
    assertEquals("path=/api/v2/x", pathAt("example.org", "/api/v2/x"), "api keeps its path");
    assertEquals(
        "backend=a", RawHttp.get(haproxy.http(), "example.org", "/api/v2/x").body().split(" ")[0]);
    assertEquals(workers, haproxy.workers());
    // A path prefix without a host, the same way: a line appended.
    two[one.length - 5] = "/docs,/docs/new";
    assertEquals(Outcome.RUNTIME_UPDATE, haproxy.apply(two).outcome());
    assertEquals(workers, haproxy.workers());
    assertEquals(List.of("/docs http-any", "/docs/new http-any"), mapOf("path.map"));
    assertEquals("path=/docs/new/x", pathAt("other.org", "/docs/new/x"));
  }

  /** One of HAProxy's maps, named by its file ({@code host_path.map}), in HAProxy's order. */
  private static List<String> mapOf(String file) throws Exception {
    HaproxySocket socket = new HaproxySocket(haproxy.stateDir());
    for (String line : socket.send("show map").split("\n")) {
      java.util.regex.Matcher m =
          java.util.regex.Pattern.compile(
                  "\\(([^)]*/" + java.util.regex.Pattern.quote(file) + ")\\)")
              .matcher(line);
      if (m.find()) {
        List<String> entries = new java.util.ArrayList<>();
        for (String entry : socket.send("show map " + m.group(1)).split("\n")) {
          if (entry.startsWith("0x")) {
            entries.add(entry.substring(entry.indexOf(' ') + 1));
          }
        }
        return entries;
      }
    }
    throw new AssertionError("HAProxy has no " + file);
  }

  /** The path a request for {@code host} and {@code path} reached its server with. */
  private static String pathAt(String host, String path) throws Exception {
    return RawHttp.get(haproxy.http(), host, path).body().split(" ")[1];
  }

  /**
   * Service wild on {@code *.example.org} (backend a), service api on {@code apiDomain} (backend
   * b), and service reg on the path regex {@code regex} when given (backend b).
   */
  private static ApplyResult wildApiAndReg(String apiDomain, String regex) throws Exception {
    String wa = a.backend().toString();
    String wb = b.backend().toString();
    List<String> keys =
        new java.util.ArrayList<>(
            List.of(
                "services/wild/domain",
                "*.example.org",
                "services/wild/w1",
                wa,
                "services/api/domain",
                apiDomain,
                "services/api/w1",
                wb));
    if (regex != null) {
      keys.addAll(List.of("services/reg/url_reg", regex, "services/reg/w1", wb));
    }
    return haproxy.apply(keys.toArray(String[]::new));
  }

  /**
   * Routes HAProxy tries in file order, changed at runtime: each such map is replaced whole, most
   * specific entry first, so a new, narrower wildcard wins over the one that was there (an {@code
   * add map} would append it behind), and a changed regex takes the old one's place.
   */
  @Test
  void a_narrower_wildcard_or_a_new_regex_is_served_at_runtime_in_its_place() throws Exception {
    wildApiAndReg("api.test", "^/old/");
    List<Long> workers = haproxy.workers();
    ApplyResult r = wildApiAndReg("api.test,*.zz.example.org", "^/new/");
    assertEquals(Outcome.RUNTIME_UPDATE, r.outcome(), r.toString());
    assertEquals(workers, haproxy.workers());
    // .zz.example.org sorts after .example.org: only the most specific first puts it before.
    assertEquals("backend=b", backendOf("v1.zz.example.org"));
    assertEquals("backend=a", backendOf("shop.example.org"));
    assertEquals(200, RawHttp.get(haproxy.http(), "x.test", "/new/1").status());
    assertEquals(503, RawHttp.get(haproxy.http(), "x.test", "/old/1").status());
  }

  /**
   * Routes of a host and a path, changed at runtime: their map keys are regexes whose dots and
   * other special characters HAProxy's command line must carry as they are (a backslash it would
   * take for an escape, and the change would need a reload).
   */
  @Test
  void a_host_and_path_route_changes_at_runtime() throws Exception {
    String wa = a.backend().toString();
    String wb = b.backend().toString();
    haproxy.apply(
        "services/reg/domain", "reg.example.org",
        "services/reg/url_reg", "^/old/",
        "services/reg/w1", wa,
        "services/pre/domain", "*.pre.example.org",
        "services/pre/url_beg", "/v1.0",
        "services/pre/keep_path", "true",
        "services/pre/w1", wb);
    assertEquals(200, RawHttp.get(haproxy.http(), "reg.example.org", "/old/1").status());
    assertEquals(200, RawHttp.get(haproxy.http(), "x.pre.example.org", "/v1.0/x").status());
    List<Long> workers = haproxy.workers();
    ApplyResult r =
        haproxy.apply(
            "services/reg/domain", "reg.example.org",
            "services/reg/url_reg", "^/new/",
            "services/reg/w1", wa,
            "services/pre/domain", "*.pre.example.org",
            "services/pre/url_beg", "/v2.0",
            "services/pre/keep_path", "true",
            "services/pre/w1", wb);
    assertEquals(Outcome.RUNTIME_UPDATE, r.outcome(), r.toString());
    assertEquals(workers, haproxy.workers());
    assertEquals(200, RawHttp.get(haproxy.http(), "reg.example.org", "/new/1").status());
    assertEquals(503, RawHttp.get(haproxy.http(), "reg.example.org", "/old/1").status());
    assertEquals(503, RawHttp.get(haproxy.http(), "regXexample.org", "/new/1").status());
    assertEquals(200, RawHttp.get(haproxy.http(), "x.pre.example.org", "/v2.0/x").status());
    assertEquals(503, RawHttp.get(haproxy.http(), "x.pre.example.org", "/v2x0/x").status());
    assertEquals(503, RawHttp.get(haproxy.http(), "x.pre.example.org", "/v1.0/x").status());
  }

  /** A map replacement HAProxy refuses (its commit sent for a version that does not exist). */
  @Test
  void a_map_replacement_haproxy_refuses_reloads_instead() throws Exception {
    wildApiAndReg("api.test", null);
    List<Long> workers = haproxy.workers();
    try (SocketRelay relay =
        adminRelay(cmd -> cmd.replaceAll("commit map @[0-9]+", "commit map @999"))) {
      ApplyResult r = wildApiAndReg("api.test,*.zz.example.org", null);
      assertTrue(
          relay.answers().stream().anyMatch(x -> x.contains("[3]:")),
          "HAProxy refused the commit: " + relay.answers());
      assertEquals(Outcome.RELOADED, r.outcome(), r.toString());
    }
    assertNotEquals(workers, haproxy.workers());
    assertEquals("backend=b", backendOf("v1.zz.example.org"));
  }

  @Test
  void a_new_service_with_settings_of_its_own_reloads_and_serves() throws Exception {
    haproxy.apply("services/web/domain", "example.org", "services/web/w1", a.backend().toString());
    List<Long> workers = haproxy.workers();
    ApplyResult r =
        haproxy.apply(
            "services/web/domain",
            "example.org",
            "services/web/w1",
            a.backend().toString(),
            "services/more/domain",
            "more.example.org",
            "services/more/balance",
            "source",
            "services/more/w1",
            b.backend().toString());
    assertEquals(Outcome.RELOADED, r.outcome());
    assertEquals("backend=b", backendOf("more.example.org"));
    assertNotEquals(workers, haproxy.workers());
    assertTrue(
        new HaproxySocket(haproxy.stateDir())
            .servers("http-more").stream().anyMatch(s -> s.filled()),
        "its own backend");
  }

  /** The service each spare serves, as HAProxy holds it: {@code spare-1 http-more}. */
  private static java.util.Set<String> spares() throws Exception {
    java.util.Set<String> lines = new java.util.TreeSet<>();
    HaproxySocket socket = new HaproxySocket(haproxy.stateDir());
    for (String line : socket.send("show map").split("\n")) {
      java.util.regex.Matcher m =
          java.util.regex.Pattern.compile("\\(([^)]*spares\\.map)\\)").matcher(line);
      if (m.find()) {
        for (String entry : socket.send("show map " + m.group(1)).split("\n")) {
          if (entry.startsWith("0x")) {
            lines.add(entry.substring(entry.indexOf(' ') + 1));
          }
        }
        return lines;
      }
    }
    throw new AssertionError("HAProxy has no spares.map");
  }

  private static java.util.Set<String> filled(String backend) throws Exception {
    java.util.Set<String> endpoints = new java.util.TreeSet<>();
    for (HaproxySocket.Server s : new HaproxySocket(haproxy.stateDir()).servers(backend)) {
      if (s.filled()) {
        endpoints.add(s.endpoint());
      }
    }
    return endpoints;
  }

  @Test
  void a_new_service_with_default_settings_is_served_from_a_spare_without_a_reload()
      throws Exception {
    haproxy.apply("services/web/domain", "example.org", "services/web/w1", a.backend().toString());
    List<Long> workers = haproxy.workers();
    assertEquals(java.util.Set.of(), spares());
    assertEquals(java.util.Set.of(), filled("spare-1"), "spares are prepared empty");
    String[] keys = {
      "services/web/domain",
      "example.org",
      "services/web/w1",
      a.backend().toString(),
      "services/more/domain",
      "more.example.org",
      "services/more/w1",
      b.backend().toString()
    };
    ApplyResult r = haproxy.apply(keys);
    assertEquals(Outcome.RUNTIME_UPDATE, r.outcome(), r.toString());
    assertEquals("backend=b", backendOf("more.example.org"));
    assertEquals("backend=a", backendOf("example.org"));
    assertEquals(workers, haproxy.workers(), "no reload");
    assertEquals(java.util.Set.of("spare-1 http-more"), spares(), "HAProxy says who it serves");
    assertEquals(java.util.Set.of(b.backend().toString()), filled("spare-1"));

    // Served from the spare, it changes as any service does: backends and hosts at runtime.
    keys[7] = c.backend().toString();
    assertEquals(Outcome.RUNTIME_UPDATE, haproxy.apply(keys).outcome());
    assertEquals("backend=c", backendOf("more.example.org"));
    keys[5] = "more.example.org,also.example.org";
    assertEquals(Outcome.RUNTIME_UPDATE, haproxy.apply(keys).outcome());
    assertEquals("backend=c", backendOf("also.example.org"));
    assertEquals(workers, haproxy.workers(), "still no reload");

    // The next reload, for another reason, gives it its own backend and the spares back.
    String[] more = java.util.Arrays.copyOf(keys, keys.length + 4);
    more[8] = "services/sticky/domain";
    more[9] = "sticky.example.org";
    more[10] = "services/sticky/balance";
    more[11] = "source";
    assertEquals(Outcome.RELOADED, haproxy.apply(more).outcome());
    assertEquals("backend=c", backendOf("also.example.org"));
    assertEquals(java.util.Set.of(c.backend().toString()), filled("http-more"));
    assertEquals(java.util.Set.of(), filled("spare-1"));
    assertEquals(java.util.Set.of(), spares());
  }

  /** A new service whose prefix is taken off fits a spare: the cut is a map line of the spare. */
  @Test
  void a_new_service_with_a_stripped_prefix_is_served_from_a_spare_without_a_reload()
      throws Exception {
    haproxy.apply("services/web/domain", "example.org", "services/web/w1", a.backend().toString());
    List<Long> workers = haproxy.workers();
    ApplyResult r =
        haproxy.apply(
            "services/web/domain", "example.org",
            "services/web/w1", a.backend().toString(),
            "services/more/domain", "example.org",
            "services/more/url_beg", "/more",
            "services/more/w1", b.backend().toString());
    assertEquals(Outcome.RUNTIME_UPDATE, r.outcome(), r.toString());
    assertEquals(workers, haproxy.workers(), "no reload");
    assertEquals(java.util.Set.of("spare-1 http-more"), spares());
    String[] answer = RawHttp.get(haproxy.http(), "example.org", "/more/x").body().split(" ");
    assertEquals("backend=b path=/x", answer[0] + " " + answer[1]);
    assertEquals("backend=a", backendOf("example.org"));

    // In its spare, its prefix kept and taken off again at runtime; then a reload for another
    // reason gives it its own backend, and its prefix goes with it.
    String[] kept = {
      "services/web/domain", "example.org",
      "services/web/w1", a.backend().toString(),
      "services/more/domain", "example.org",
      "services/more/url_beg", "/more",
      "services/more/keep_path", "true",
      "services/more/w1", b.backend().toString()
    };
    assertEquals(Outcome.RUNTIME_UPDATE, haproxy.apply(kept).outcome());
    assertEquals("path=/more/x", pathAt("example.org", "/more/x"));
    kept[9] = "false";
    assertEquals(Outcome.RUNTIME_UPDATE, haproxy.apply(kept).outcome());
    assertEquals("path=/x", pathAt("example.org", "/more/x"));
    assertEquals(workers, haproxy.workers(), "no reload");
    String[] more = java.util.Arrays.copyOf(kept, kept.length + 4);
    more[12] = "services/sticky/domain";
    more[13] = "sticky.example.org";
    more[14] = "services/sticky/balance";
    more[15] = "source";
    assertEquals(Outcome.RELOADED, haproxy.apply(more).outcome());
    assertEquals(java.util.Set.of(), spares());
    assertEquals(java.util.Set.of(b.backend().toString()), filled("http-more"));
    assertEquals("path=/x", pathAt("example.org", "/more/x"));
  }

  /**
   * HAProxy is told which service a spare serves before any route leads to it: when it refuses
   * that, no request ever reaches the spare, and a reload serves the service instead.
   */
  @Test
  void a_spare_is_routed_to_only_once_haproxy_holds_who_it_serves() throws Exception {
    haproxy.apply("services/web/domain", "example.org", "services/web/w1", a.backend().toString());
    List<String> sent = new java.util.concurrent.CopyOnWriteArrayList<>();
    try (SocketRelay relay =
        adminRelay(
            cmd -> {
              sent.add(cmd);
              return cmd.replaceAll("add map [^ ;]*spares\\.map", "add map /nowhere.map");
            })) {
      ApplyResult r =
          haproxy.apply(
              "services/web/domain",
              "example.org",
              "services/web/w1",
              a.backend().toString(),
              "services/more/domain",
              "more.example.org",
              "services/more/w1",
              b.backend().toString());
      assertTrue(
          relay.answers().stream().anyMatch(x -> x.contains("[3]:")),
          "HAProxy refused the spares map line: " + relay.answers());
      assertEquals(Outcome.RELOADED, r.outcome(), r.toString());
    }
    assertTrue(
        sent.stream().noneMatch(c -> c.contains("host.map") && c.contains("spare-")),
        "no route to a spare was sent: " + sent);
    assertEquals("backend=b", backendOf("more.example.org"));
    assertEquals(java.util.Set.of(), spares());
  }

  @Test
  void a_service_in_a_spare_that_gets_settings_of_its_own_or_goes_reloads() throws Exception {
    List<String> web =
        List.of("services/web/domain", "example.org", "services/web/w1", a.backend().toString());
    haproxy.apply(web.toArray(String[]::new));
    List<String> more = new java.util.ArrayList<>(web);
    more.addAll(
        List.of(
            "services/more/domain",
            "more.example.org",
            "services/more/w1",
            b.backend().toString()));
    assertEquals(Outcome.RUNTIME_UPDATE, haproxy.apply(more.toArray(String[]::new)).outcome());
    assertEquals(java.util.Set.of("spare-1 http-more"), spares());

    more.addAll(List.of("services/more/balance", "source"));
    assertEquals(Outcome.RELOADED, haproxy.apply(more.toArray(String[]::new)).outcome());
    assertEquals(java.util.Set.of(b.backend().toString()), filled("http-more"));
    assertEquals(java.util.Set.of(), filled("spare-1"));
    assertEquals(java.util.Set.of(), spares());

    List<String> other = new java.util.ArrayList<>(more);
    other.addAll(
        List.of(
            "services/other/domain",
            "other.example.org",
            "services/other/w1",
            c.backend().toString()));
    assertEquals(Outcome.RUNTIME_UPDATE, haproxy.apply(other.toArray(String[]::new)).outcome());
    assertEquals("backend=c", backendOf("other.example.org"));
    assertEquals(Outcome.RELOADED, haproxy.apply(more.toArray(String[]::new)).outcome(), "gone");
    assertEquals("503", backendOf("other.example.org"));
    assertEquals(java.util.Set.of(), filled("spare-1"));
    assertEquals(java.util.Set.of(), spares());
  }

  @Test
  void a_tcp_service_grows_past_its_slots_at_runtime() throws Exception {
    String port = Integer.toString(HaproxyFixture.freePort());
    List<String> keys =
        new java.util.ArrayList<>(
            List.of(
                "services/web/domain",
                "example.org",
                "services/web/w1",
                a.backend().toString(),
                "tcp-services/raw/external_port",
                port,
                "tcp-services/raw/r1",
                a.backend().toString()));
    haproxy.apply(keys.toArray(String[]::new));
    List<Long> workers = haproxy.workers();
    assertEquals(
        1, new HaproxySocket(haproxy.stateDir()).servers("tcp-raw").size(), "a slot per server");
    keys.addAll(
        List.of(
            "tcp-services/raw/r2", b.backend().toString(),
            "tcp-services/raw/r3", c.backend().toString()));
    ApplyResult r = haproxy.apply(keys.toArray(String[]::new));
    assertEquals(Outcome.RUNTIME_UPDATE, r.outcome(), r.toString());
    assertEquals(workers, haproxy.workers());
    java.util.Set<String> seen = new java.util.TreeSet<>();
    for (int i = 0; i < 6; i++) {
      seen.add(RawHttp.get(Integer.parseInt(port), "raw", "/").body().split(" ")[0]);
    }
    assertEquals(java.util.Set.of("backend=a", "backend=b", "backend=c"), seen);
    Map<String, List<String>> state = serverStateColumns("tcp-raw", "srv_check_state");
    for (String added : List.of("s2", "s3")) {
      assertEquals(checkedHow(state.get("s1")), checkedHow(state.get(added)), added + ": " + state);
    }
  }

  @Test
  void more_new_services_than_spares_reload_and_a_spare_grows_past_its_slots() throws Exception {
    haproxy.apply("services/web/domain", "example.org", "services/web/w1", a.backend().toString());
    List<String> web =
        List.of("services/web/domain", "example.org", "services/web/w1", a.backend().toString());
    List<String> many = new java.util.ArrayList<>(web);
    for (int i = 1; i <= 5; i++) {
      many.add("services/big/w" + i);
      many.add("127.0.0." + i + ":" + a.port());
    }
    many.addAll(List.of("services/big/domain", "big.example.org"));
    List<Long> workers = haproxy.workers();
    assertEquals(
        Outcome.RUNTIME_UPDATE,
        haproxy.apply(many.toArray(String[]::new)).outcome(),
        "5 servers, and a spare has 4 slots: it grows");
    assertEquals(workers, haproxy.workers());
    assertEquals(java.util.Set.of("spare-1 http-big"), spares());
    assertEquals(5, filled("spare-1").size());

    haproxy.apply("services/web/domain", "example.org", "services/web/w1", a.backend().toString());
    List<String> crowd = new java.util.ArrayList<>(web);
    for (int i = 0; i <= HaproxySettings.DEFAULT_SPARE_BACKENDS; i++) {
      crowd.addAll(List.of("services/n" + i + "/domain", "n" + i + ".example.org"));
    }
    ApplyResult r = haproxy.apply(crowd.toArray(String[]::new));
    assertEquals(Outcome.RELOADED, r.outcome(), "one more new service than there are spares");
    assertEquals(java.util.Set.of(), spares());
  }

  @Test
  void a_service_haproxy_refuses_is_left_out_and_the_rest_is_applied() throws Exception {
    ApplyResult r =
        haproxy.apply(
            "services/web/domain", "example.org",
            "services/web/w1", a.backend().toString(),
            "services/odd/domain", "odd.example.org",
            "services/odd/custom_settings", "timeout server 5s\nno-such-keyword here",
            "services/odd/w1", b.backend().toString());
    assertEquals(Outcome.RELOADED, r.outcome(), r.toString());
    assertEquals(1, r.problems().size(), r.toString());
    Problem p = r.problems().get(0);
    assertEquals("services/odd", p.key());
    assertTrue(p.reason().contains("no-such-keyword"), p.reason());
    assertEquals("backend=a", backendOf("example.org"));
    assertEquals(503, RawHttp.get(haproxy.http(), "odd.example.org", "/").status());
    assertTrue(
        !Files.readString(haproxy.stateDir().resolve("haproxy.cfg")).contains("no-such-keyword"));

    ApplyResult again =
        haproxy.apply(
            "services/web/domain", "example.org",
            "services/web/w1", a.backend().toString(),
            "services/odd/domain", "odd.example.org",
            "services/odd/custom_settings", "timeout server 5s\nno-such-keyword here",
            "services/odd/w1", b.backend().toString());
    assertEquals(Outcome.UNCHANGED, again.outcome(), "the same bad input is not checked again");
    assertEquals(1, again.problems().size(), "and is still reported");
  }

  private static String lastGeneration() throws Exception {
    try (var dirs = Files.list(haproxy.stateDir().resolve("gen"))) {
      return Long.toString(
          dirs.mapToLong(d -> Long.parseLong(d.getFileName().toString())).max().orElseThrow());
    }
  }
}
