package io.haproxyconfd.adapters.haproxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.haproxyconfd.domain.Backend;
import io.haproxyconfd.domain.ProxyConfig;
import io.haproxyconfd.domain.ServiceName;
import io.haproxyconfd.domain.TestCertificates;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class PlanTest {
  static final HaproxySettings SETTINGS =
      HaproxySettings.defaults(Path.of("/state")).withPorts("127.0.0.1", 8080, 8443, 9000);
  static final Renderer RENDERER = new Renderer(Optional.empty());

  static String render(ProxyConfig config) {
    Slots slots =
        Slots.fresh(
            Map.of(
                "http-web", config.http().isEmpty() ? List.of() : config.http().get(0).backends()));
    return RENDERER.render(
        Plan.build(config, slots, SETTINGS, "0123456789abcdef", 1 << 20, Path.of("/state/gen/1")));
  }

  @Test
  void routes_become_map_entries_most_specific_first() {
    ProxyConfig config =
        HaproxyFixture.config(
            "services/web/domain", "example.org,*.example.org",
            "services/api/domain", "example.org,*.shop.example.org",
            "services/api/url_beg", "/api,/api/v2",
            "services/reg/domain", "example.org",
            "services/reg/url_reg", "^/v[0-9]+/",
            "services/any/url_reg", "\\.jpg$");
    Map<String, List<String>> maps = Plan.mapContents(config);
    assertEquals(
        List.of("example.org/api/v2 http-api", "example.org/api http-api"),
        maps.get("host_path.map"));
    assertEquals(
        List.of(
            "^example[.]org(?i:/v[0-9]+/) http-reg",
            "^[^/]+[.]shop[.]example[.]org/api/v2 http-api",
            "^[^/]+[.]shop[.]example[.]org/api http-api"),
        maps.get("host_path_reg.map"));
    assertEquals(List.of("example.org http-web"), maps.get("host.map"));
    assertEquals(List.of(".example.org http-web"), maps.get("wildcard.map"));
    assertEquals(List.of("(?i)\\.jpg$ http-any"), maps.get("path_reg.map"));
    assertEquals(
        List.of("http-api/api http-api/api", "http-api/api/v2 http-api/api/v2"),
        maps.get("strip.map"),
        "the prefixes api takes off; reg's regex takes nothing off");
  }

  @Test
  void the_prefixes_a_backend_takes_off_are_keyed_by_the_backend_that_serves_them() {
    ProxyConfig config =
        HaproxyFixture.config(
            "services/kept/url_beg", "/kept",
            "services/kept/keep_path", "true",
            "services/new/url_beg", "/v1/,/",
            "services/new/w1", "10.0.0.2:80");
    assertEquals(
        List.of("http-new/v1 http-new/v1", "http-new/ http-new/"),
        Plan.mapContents(config).get("strip.map"),
        "a trailing slash is the frontend's to take off; kept's prefix stays on");
    Slots inSpare = Slots.fresh(config, 1).hosting(ServiceName.of("new"), "spare-1");
    assertEquals(
        List.of("spare-1/v1 spare-1/v1", "spare-1/ spare-1/"),
        Plan.mapContents(config, inSpare).get("strip.map"));
  }

  @Test
  void only_a_service_laid_out_as_a_spare_fits_one() {
    assertTrue(Plan.fitsSpare(service("services/s/domain", "s.org")));
    assertTrue(
        Plan.fitsSpare(service("services/s/domain", "s.org", "services/s/url_beg", "/api")),
        "the prefix taken off is a map line");
    assertTrue(
        Plan.fitsSpare(
            service(
                "services/s/domain", "s.org",
                "services/s/url_beg", "/api",
                "services/s/keep_path", "true")),
        "the prefix kept");
    for (String[] own :
        List.of(
            new String[] {"services/s/balance", "source"},
            new String[] {"services/s/force_https", "true"},
            new String[] {"services/s/cookie", ""},
            new String[] {"services/s/health_check_uri", "/health"},
            new String[] {"services/s/custom_settings", "timeout server 5s"},
            new String[] {"services/s/basic_auth", "alice:$6$saltsalt$" + "a".repeat(86)},
            new String[] {"services/s/cert", TestCertificates.rsa("s.org")})) {
      HttpServiceKeys keys = new HttpServiceKeys("services/s/domain", "s.org", own[0], own[1]);
      assertFalse(Plan.fitsSpare(keys.service()), own[0] + " is a setting of its own");
    }
  }

  /** Keys of one service, parsed. */
  private record HttpServiceKeys(String... keyValues) {
    io.haproxyconfd.domain.HttpService service() {
      return PlanTest.service(keyValues);
    }
  }

  private static io.haproxyconfd.domain.HttpService service(String... keyValues) {
    return HaproxyFixture.config(keyValues).http().get(0);
  }

  @Test
  void a_service_in_a_spare_is_rendered_in_it_and_routed_to_it() {
    ProxyConfig config =
        HaproxyFixture.config(
            "services/web/domain", "example.org",
            "services/web/w1", "10.0.0.1:80",
            "services/new/domain", "new.example.org",
            "services/new/w1", "10.0.0.2:80");
    Map<String, List<io.haproxyconfd.domain.Backend>> servers = new java.util.TreeMap<>();
    servers.put("http-web", config.http().get(1).backends());
    Slots fresh = Slots.fresh(servers, java.util.Set.of(), 3);
    assertEquals(List.of("spare-1", "spare-2", "spare-3"), fresh.freeSpares());
    Slots held =
        fresh
            .hosting(io.haproxyconfd.domain.ServiceName.of("new"), "spare-1")
            .update(Map.of("spare-1", config.http().get(0).backends()))
            .orElseThrow()
            .slots();
    assertEquals(List.of("spare-2", "spare-3"), held.freeSpares());
    String text =
        RENDERER.render(
            Plan.build(config, held, SETTINGS, "0123456789abcdef", 1 << 20, Path.of("/g/1")));
    assertTrue(
        text.contains("backend spare-1\n  balance roundrobin\n  server s1 10.0.0.2:80"), text);
    assertFalse(text.contains("backend http-new"), text);
    assertTrue(text.indexOf("backend spare-2") > text.indexOf("backend http-web"), "spares last");
    assertTrue(text.contains("backend spare-3"), text);
    Map<String, List<String>> maps = Plan.mapContents(config, held);
    assertEquals(List.of("new.example.org spare-1", "example.org http-web"), maps.get("host.map"));
    assertEquals(List.of("spare-1 http-new"), maps.get(Plan.SPARES_MAP));
    assertTrue(text.contains("map(/g/1/maps/spares.map) if FALSE"), text);
  }

  /** Literals in regex keys carry no backslash, which HAProxy's command line would unescape. */
  @Test
  void a_literal_is_a_regex_of_classes_not_backslashes() {
    assertEquals("/v1[.]0[+]x/a-b_~", Plan.literalRegex("/v1.0+x/a-b_~"));
    assertEquals("[(][)][*][?][[][]][{][}][|][$]\\^\\\\", Plan.literalRegex("()*?[]{}|$^\\"));
    java.util.regex.Pattern p = java.util.regex.Pattern.compile("^" + Plan.literalRegex("/v1.0+x"));
    assertTrue(p.matcher("/v1.0+x/y").find());
    assertFalse(p.matcher("/v1x0+x/y").find());
    assertFalse(p.matcher("/v1.00x/y").find());
  }

  /** A map replaced whole gets the lines the whole config's maps give it, in their order. */
  @Test
  void the_lines_of_some_maps_are_those_of_all_maps() {
    ProxyConfig config =
        HaproxyFixture.config(
            "services/a/domain", "a.example.org,*.example.org,*.x.example.org",
            "services/a/w1", "10.0.0.1:80",
            "services/b/domain", "b.example.org,*.b.example.org",
            "services/b/url_beg", "/api,/api/v1",
            "services/b/keep_path", "true",
            "services/b/w1", "10.0.0.2:80",
            "services/c/url_reg", "^/c/",
            "services/c/w1", "10.0.0.3:80",
            "services/d/url_beg", "/d",
            "services/d/w1", "10.0.0.4:80",
            "services/e/domain", "e.example.org",
            "services/e/url_reg", "[.]png$",
            "services/e/w1", "10.0.0.5:80");
    Slots slots =
        Slots.fresh(config, 2).hosting(io.haproxyconfd.domain.ServiceName.of("d"), "spare-1");
    Map<String, List<String>> all = Plan.mapContents(config, slots);
    for (String file : all.keySet()) {
      assertEquals(
          Map.of(file, all.get(file)),
          Plan.mapContents(config, slots, java.util.Set.of(file)),
          file);
    }
    assertEquals(all, Plan.mapContents(config, slots, all.keySet()));
    assertTrue(all.values().stream().filter(l -> l.size() > 1).count() >= 3, all.toString());
  }

  /** The one-pass table a reload builds is the table of the config's servers and growth. */
  @Test
  void a_fresh_table_of_a_config_is_the_table_of_its_servers() {
    ProxyConfig config =
        HaproxyFixture.config(
            "services/web/domain", "example.org",
            "services/web/w1", "10.0.0.1:80",
            "services/web/w2", "10.0.0.2:80",
            "services/sticky/domain", "sticky.example.org",
            "services/sticky/balance", "source",
            "services/sticky/w1", "10.0.0.3:80",
            "tcp-services/db/external_port", "5432",
            "tcp-services/db/w1", "10.0.0.4:5432");
    Slots once = Slots.fresh(config, 2);
    Slots apart = Slots.fresh(Plan.servers(config), Plan.growable(config), 2);
    assertEquals(apart.total(), once.total());
    assertEquals(apart.freeSpares(), once.freeSpares());
    List<io.haproxyconfd.domain.Backend> five = new java.util.ArrayList<>();
    for (int i = 1; i <= 5; i++) {
      five.add(io.haproxyconfd.domain.Backend.of("10.0.1." + i, 80));
    }
    for (String name : Plan.servers(config).keySet()) {
      assertEquals(apart.of(name), once.of(name), name);
      // Grows where a runtime 'add server' can: sticky (balance source) cannot, the others can.
      assertEquals(
          apart.update(Map.of(name, five)).isPresent(),
          once.update(Map.of(name, five)).isPresent(),
          name);
      assertEquals(!name.equals("http-sticky"), once.update(Map.of(name, five)).isPresent(), name);
    }
    assertEquals(Plan.servers(config).size() + 2, 5);
  }

  @Test
  void servers_fill_slots_with_headroom_and_the_rest_wait_disabled() {
    ProxyConfig config =
        HaproxyFixture.config(
            "services/web/domain", "example.org",
            "services/web/w1", "10.0.0.1:80",
            "services/web/w2", "[2001:db8::1]:80",
            "services/web/w3", "10.0.0.3:8080");
    String text = render(config);
    assertTrue(text.contains("  server s1 10.0.0.1:80 check\n"), text);
    assertTrue(text.contains("  server s2 10.0.0.3:8080 check\n"), text);
    assertTrue(text.contains("  server s3 [2001:db8::1]:80 check\n"), text);
    assertTrue(text.contains("  server s8 127.0.0.1:1 check disabled\n"), text);
    assertFalse(text.contains("server s9 "), text);
    // With too few file descriptors for HAProxy to declare a check on every slot, only filled
    // slots are checked: HAProxy would refuse to start otherwise.
    String tight =
        RENDERER.render(
            Plan.build(
                config,
                Slots.fresh(Plan.servers(config)),
                SETTINGS,
                "0123456789abcdef",
                20,
                Path.of("/state/gen/1")));
    assertTrue(tight.contains("  server s1 10.0.0.1:80 check\n"), tight);
    assertTrue(tight.contains("  server s8 127.0.0.1:1 disabled\n"), tight);
    assertEquals(4, Slots.sizeFor(0));
    assertEquals(4, Slots.sizeFor(2));
    assertEquals(8, Slots.sizeFor(3));
    assertEquals(256, Slots.sizeFor(100));
    // All slots counted: twice the servers where a backend cannot grow, one a server where it can,
    // and the spares' four each.
    List<io.haproxyconfd.domain.Backend> three = config.http().get(0).backends();
    assertEquals(8, Slots.fresh(Plan.servers(config)).total());
    assertEquals(
        8 + 3 + 2 * Slots.MIN_SLOTS,
        Slots.fresh(Map.of("http-web", three, "http-api", three), java.util.Set.of("http-api"), 2)
            .total());
  }

  /**
   * What {@link io.haproxyconfd.domain.ConfigChange} does not compare (the ports DNS answers are
   * used with, the host names agents wrote) must not be in the rendered config either, or a change
   * of them would never reach HAProxy.
   */
  @Test
  void discovery_ports_are_not_in_the_config_only_the_backends_they_give() {
    String one =
        render(
            HaproxyFixture.config(
                "services/web/domain", "example.org",
                "services/web/port", "80",
                "services/web/w1", "10.0.0.1:80",
                "tcp-services/db/external_port", "5432",
                "tcp-services/db/internal_port", "5432",
                "tcp-services/db/d1", "10.0.0.9:5432"));
    String other =
        render(
            HaproxyFixture.config(
                "services/web/domain", "example.org",
                "services/web/port", "7171",
                "services/web/w1", "10.0.0.1:80",
                "tcp-services/db/external_port", "5432",
                "tcp-services/db/internal_port", "6432",
                "tcp-services/db/d1", "10.0.0.9:5432"));
    assertEquals(one, other);
    assertFalse(one.contains("7171") || one.contains("6432"), one);
  }

  @Test
  void slot_updates_keep_unchanged_servers_in_place() {
    Backend a = Backend.of("10.0.0.1", 80);
    Backend b = Backend.of("10.0.0.2", 80);
    Backend c = Backend.of("10.0.0.3", 80);
    Slots slots = Slots.fresh(Map.of("http-web", List.of(a, b)));
    Slots.Update u = slots.update(Map.of("http-web", List.of(b, c))).orElseThrow();
    assertEquals(List.of(new Slots.Change("http-web", 0, Optional.of(c))), u.changes());
    Slots.Update shrink = u.slots().update(Map.of("http-web", List.of(c))).orElseThrow();
    assertEquals(List.of(new Slots.Change("http-web", 1, Optional.empty())), shrink.changes());
    assertEquals(Optional.of(b), u.slots().of("http-web").get(1));
    List<Backend> five = List.of(a, b, c, Backend.of("10.0.0.4", 80), Backend.of("10.0.0.5", 80));
    assertTrue(slots.update(Map.of("http-web", five)).isEmpty(), "more servers than slots: reload");
    assertTrue(slots.update(Map.of("http-other", List.of(a))).isEmpty(), "unknown backend: reload");
    Slots two = Slots.fresh(Map.of("http-web", List.of(a), "http-api", List.of(b)));
    Slots.Update one = two.update(Map.of("http-api", List.of(c))).orElseThrow();
    assertEquals(List.of(new Slots.Change("http-api", 0, Optional.of(c))), one.changes());
    assertEquals(Optional.of(a), one.slots().of("http-web").get(0), "the other backend keeps its");
  }

  @Test
  void a_backend_that_can_grow_gets_a_slot_per_server_and_new_slots_past_them() {
    Backend a = Backend.of("10.0.0.1", 80);
    Backend b = Backend.of("10.0.0.2", 80);
    Slots slots = Slots.fresh(Map.of("http-web", List.of(a, b)), java.util.Set.of("http-web"), 0);
    assertEquals(2, slots.of("http-web").size());
    assertEquals(
        1,
        Slots.fresh(Map.of("http-web", List.of()), java.util.Set.of("http-web"), 0)
            .of("http-web")
            .size(),
        "a backend with no server yet still has a slot to fill");
    List<Backend> four = List.of(a, b, Backend.of("10.0.0.3", 80), Backend.of("10.0.0.4", 80));
    Slots.Update u = slots.update(Map.of("http-web", four)).orElseThrow();
    assertEquals(
        List.of(
            new Slots.Change("http-web", 2, Optional.of(four.get(2)), true),
            new Slots.Change("http-web", 3, Optional.of(four.get(3)), true)),
        u.changes());
    assertEquals(4, u.slots().of("http-web").size());
    // A server moved takes the slot the old one left: no slot is added for it.
    Backend c = Backend.of("10.0.0.3", 80);
    assertEquals(
        List.of(new Slots.Change("http-web", 1, Optional.of(c), false)),
        slots.update(Map.of("http-web", List.of(a, c))).orElseThrow().changes());
    // Both servers replaced and two more: the freed slots first, then new ones.
    List<Backend> others =
        List.of(
            Backend.of("10.0.1.1", 80),
            Backend.of("10.0.1.2", 80),
            Backend.of("10.0.1.3", 80),
            Backend.of("10.0.1.4", 80));
    Slots.Update replaced = slots.update(Map.of("http-web", others)).orElseThrow();
    assertEquals(
        List.of(
            new Slots.Change("http-web", 0, Optional.of(others.get(0)), false),
            new Slots.Change("http-web", 1, Optional.of(others.get(1)), false),
            new Slots.Change("http-web", 2, Optional.of(others.get(2)), true),
            new Slots.Change("http-web", 3, Optional.of(others.get(3)), true)),
        replaced.changes());
    assertEquals(
        java.util.Set.of("http-a", "tcp-t"),
        Plan.growable(
            HaproxyFixture.config(
                "services/a/domain", "a.org",
                "services/b/domain", "b.org",
                "services/b/balance", "source",
                "services/c/domain", "c.org",
                "services/c/cookie", "",
                "services/d/domain", "d.org",
                "services/d/custom_settings", "timeout server 5s",
                "tcp-services/t/external_port", "7000",
                "tcp-services/t/internal_port", "7000",
                "tcp-services/u/external_port", "7001",
                "tcp-services/u/internal_port", "7001",
                "tcp-services/u/balance", "source")),
        "a dynamic balance, no cookie, no custom settings");
  }

  @Test
  void the_https_listener_appears_only_with_a_valid_certificate() {
    String plain = render(HaproxyFixture.config("services/web/domain", "example.org"));
    assertFalse(plain.contains("ssl crt-list"), plain);
    String tls =
        render(
            HaproxyFixture.config(
                "services/web/domain",
                "example.org",
                "services/web/cert",
                TestCertificates.rsa("example.org")));
    assertTrue(
        tls.contains("bind 127.0.0.1:8443 ssl crt-list /state/gen/1/certs/crt-list.txt"), tls);
  }

  @Test
  void an_operator_template_directory_replaces_the_built_in_template() throws Exception {
    Path dir = java.nio.file.Files.createTempDirectory("templates");
    java.nio.file.Files.writeString(dir.resolve(Renderer.TEMPLATE), "# mine for ${revision}\n");
    Renderer mine = new Renderer(Optional.of(dir));
    String text =
        mine.render(
            Plan.build(
                new ProxyConfig(42, List.of(), List.of()),
                Slots.empty(),
                SETTINGS,
                "0123456789abcdef",
                1 << 20,
                Path.of("/g")));
    assertEquals("# mine for 42\n", text);
  }
}
