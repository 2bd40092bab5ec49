package io.haproxyconfd.domain;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.haproxyconfd.domain.ConfigChange.Kind;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ConfigChangeTest {
  private static final List<String> BASE_KEYS =
      List.of(
          "services/web/domain", "example.org",
          "services/web/port", "80",
          "services/web/w-1", "10.0.0.1:80",
          "tcp-services/db/external_port", "5432",
          "tcp-services/db/d-1", "10.0.0.9:5432");

  private static final ProxyConfig BASE = parse();

  /** The base keys with these keys set (added, or changed) at a later revision. */
  private static ProxyConfig parse(String... changes) {
    java.util.Map<String, String> base = new java.util.LinkedHashMap<>();
    for (int i = 0; i < BASE_KEYS.size(); i += 2) {
      base.put(BASE_KEYS.get(i), BASE_KEYS.get(i + 1));
    }
    for (int i = 0; i < changes.length; i += 2) {
      base.remove(changes[i]);
    }
    List<String> flat = new java.util.ArrayList<>();
    base.forEach(
        (k, v) -> {
          flat.add(k);
          flat.add(v);
        });
    return Keys.of(flat.toArray(String[]::new)).put(changes).parse().config();
  }

  /**
   * Unchanged services, the very same objects, stand at other places when a service before them
   * went and another came: a walk skips them wherever they stand, and finds what changed around
   * them. Over the parser's own lists and over lists of the checking constructor alike.
   */
  @Test
  void unchanged_services_are_skipped_wherever_they_stand() {
    ConfigParser.Memo memo = new ConfigParser.Memo();
    Keys keys =
        Keys.of(
            "services/a/domain", "a.example.org",
            "services/a/port", "80",
            "services/m/domain", "m.example.org",
            "services/m/port", "80",
            "services/n/domain", "n.example.org",
            "services/n/port", "80",
            "services/z/domain", "z.example.org",
            "services/z/port", "80");
    ProxyConfig before =
        ConfigParser.parse(keys.snapshot(), Keys.DNS, LastGood.NONE, memo).config();
    Keys next =
        Keys.of(
            "services/b/domain", "b.example.org",
            "services/b/port", "80",
            "services/c/domain", "c.example.org",
            "services/c/port", "80",
            "services/m/domain", "m.example.org",
            "services/m/port", "80",
            "services/n/domain", "n.example.org",
            "services/n/port", "80",
            "services/z/domain", "z.example.org",
            "services/z/port", "80");
    ProxyConfig after = ConfigParser.parse(next.snapshot(), Keys.DNS, LastGood.NONE, memo).config();
    assertEquals(before.http().get(1), after.http().get(2));
    org.junit.jupiter.api.Assertions.assertSame(before.http().get(3), after.http().get(4));
    Set<ServiceName> changed =
        Set.of(ServiceName.of("a"), ServiceName.of("b"), ServiceName.of("c"));
    assertEquals(
        new ConfigChange(Kind.STRUCTURAL, changed, Set.of()), ConfigChange.between(before, after));
    assertEquals(
        new ConfigChange(Kind.STRUCTURAL, changed, Set.of()),
        ConfigChange.between(
            new ProxyConfig(1, new java.util.ArrayList<>(before.http()), List.of()),
            new ProxyConfig(2, new java.util.ArrayList<>(after.http()), List.of())));
  }

  @Test
  void the_same_config_at_another_revision_is_no_change() {
    ProxyConfig later = new ProxyConfig(99, BASE.http(), BASE.tcp());
    assertEquals(
        new ConfigChange(Kind.NONE, Set.of(), Set.of()), ConfigChange.between(BASE, later));
  }

  @Test
  void new_changed_or_removed_addresses_are_backends_only() {
    HttpService web = BASE.http().get(0);
    TcpService db = BASE.tcp().get(0);
    ProxyConfig scaled =
        new ProxyConfig(
            2,
            List.of(
                web.withBackends(List.of(Backend.of("10.0.0.1", 80), Backend.of("10.0.0.2", 80)))),
            List.of(db.withBackends(List.of())));
    assertEquals(
        new ConfigChange(
            Kind.BACKENDS_ONLY, Set.of(ServiceName.of("web"), ServiceName.of("db")), Set.of()),
        ConfigChange.between(BASE, scaled));
  }

  @Test
  void new_hosts_or_paths_of_an_existing_service_are_routes_only() {
    ProxyConfig moreHosts = parse("services/web/domain", "example.org,www.example.org");
    assertEquals(
        new ConfigChange(Kind.ROUTES_ONLY, Set.of(), Set.of(ServiceName.of("web"))),
        ConfigChange.between(BASE, moreHosts));
    ProxyConfig aPath = parse("services/web/url_beg", "/api");
    assertEquals(Kind.ROUTES_ONLY, ConfigChange.between(BASE, aPath).kind());
    HttpService web = BASE.http().get(0);
    ProxyConfig withheld =
        new ProxyConfig(
            2, List.of(web.withholding(Set.of(web.routes().get(0).match()))), BASE.tcp());
    assertEquals(Kind.ROUTES_ONLY, ConfigChange.between(BASE, withheld).kind());
  }

  @Test
  void routes_and_backends_changed_together_are_structural() {
    ProxyConfig both =
        parse(
            "services/web/domain",
            "example.org,www.example.org",
            "services/web/w-1",
            "10.0.0.2:80");
    assertEquals(
        new ConfigChange(
            Kind.STRUCTURAL, Set.of(ServiceName.of("web")), Set.of(ServiceName.of("web"))),
        ConfigChange.between(BASE, both));
  }

  @Test
  void new_http_services_alone_are_services_added() {
    ProxyConfig more =
        parse(
            "services/api/domain", "api.example.org",
            "services/api/w-1", "10.0.0.3:80",
            "services/blog/domain", "blog.example.org",
            "services/blog/port", "80");
    assertEquals(
        new ConfigChange(
            Kind.SERVICES_ADDED, Set.of(ServiceName.of("api"), ServiceName.of("blog")), Set.of()),
        ConfigChange.between(BASE, more));
    ProxyConfig sameHost =
        parse(
            "services/api/domain", "example.org,api.example.org",
            "services/api/port", "80");
    assertEquals(
        BASE.httpService(ServiceName.of("web")).orElseThrow(),
        sameHost.httpService(ServiceName.of("web")).orElseThrow(),
        "the host the new service asks for too stays with the service that had it");
    assertEquals(1, sameHost.httpService(ServiceName.of("api")).orElseThrow().routes().size());
    assertEquals(Kind.SERVICES_ADDED, ConfigChange.between(BASE, sameHost).kind());
  }

  @Test
  void new_services_beside_any_other_change_are_structural() {
    ProxyConfig moved =
        parse(
            "services/api/domain", "api.example.org",
            "services/api/port", "80",
            "services/web/w-1", "10.0.0.2:80");
    assertEquals(Kind.STRUCTURAL, ConfigChange.between(BASE, moved).kind());
    ProxyConfig rerouted =
        parse(
            "services/api/domain", "api.example.org",
            "services/api/port", "80",
            "services/web/domain", "www.example.org");
    assertEquals(Kind.STRUCTURAL, ConfigChange.between(BASE, rerouted).kind());
    ProxyConfig tcpToo =
        parse(
            "services/api/domain", "api.example.org",
            "services/api/port", "80",
            "tcp-services/cache/external_port", "6379",
            "tcp-services/cache/internal_port", "6379");
    assertEquals(Kind.STRUCTURAL, ConfigChange.between(BASE, tcpToo).kind());
    ProxyConfig sameNameTcpMoved =
        parse(
            "services/db/domain", "db.example.org",
            "services/db/port", "80",
            "tcp-services/db/d-1", "10.0.0.8:5432");
    assertEquals(
        Kind.STRUCTURAL,
        ConfigChange.between(BASE, sameNameTcpMoved).kind(),
        "a new HTTP service db, and the TCP service db moved");
    ProxyConfig withoutWeb =
        new ProxyConfig(
            3,
            parse("services/api/domain", "api.example.org", "services/api/port", "80")
                .http()
                .subList(0, 1),
            BASE.tcp());
    assertEquals(Kind.STRUCTURAL, ConfigChange.between(BASE, withoutWeb).kind(), "web is gone");
  }

  @Test
  void keep_path_alone_is_a_change_of_routes() {
    ProxyConfig api = parse("services/web/url_beg", "/api");
    ProxyConfig apiKept = parse("services/web/url_beg", "/api", "services/web/keep_path", "true");
    ConfigChange change = ConfigChange.between(api, apiKept);
    assertEquals(Kind.ROUTES_ONLY, change.kind(), "whether /api stays on the path is routing");
    assertEquals(Set.of(ServiceName.of("web")), change.servicesWithNewRoutes());
    assertEquals(Kind.ROUTES_ONLY, ConfigChange.between(apiKept, api).kind());
    for (String[] other :
        List.of(
            new String[] {"services/web/balance", "source"},
            new String[] {"services/web/force_https", "true"},
            new String[] {"services/web/cookie", ""},
            new String[] {"services/web/health_check_uri", "/health"},
            new String[] {"services/web/custom_settings", "timeout server 5s"},
            new String[] {"services/web/basic_auth", "alice:$6$saltsalt$" + "a".repeat(86)},
            new String[] {"services/web/cert", TestCertificates.rsa("example.org")})) {
      ProxyConfig keptAndOther =
          Keys.of(BASE_KEYS.toArray(String[]::new))
              .put("services/web/url_beg", "/api", "services/web/keep_path", "true")
              .put(other)
              .parse(Keys.DNS.withCustomSettingsAllowed(true))
              .config();
      HttpService.Policy policy =
          keptAndOther.httpService(ServiceName.of("web")).orElseThrow().policy();
      assertTrue(policy.keepPath(), other[0]);
      assertNotEquals(
          api.httpService(ServiceName.of("web")).orElseThrow().policy(),
          policy.withKeepPath(false),
          other[0] + " taken");
      assertEquals(
          Kind.STRUCTURAL,
          ConfigChange.between(api, keptAndOther).kind(),
          "keep_path beside " + other[0]);
    }
  }

  @Test
  void a_new_service_or_a_changed_option_is_structural() {
    assertEquals(Kind.STRUCTURAL, ConfigChange.between(BASE, ProxyConfig.EMPTY).kind());
    assertEquals(
        Kind.STRUCTURAL,
        ConfigChange.between(ProxyConfig.EMPTY, BASE).kind(),
        "a TCP service among them");
    ProxyConfig sticky = parse("services/web/balance", "source");
    assertEquals(Kind.STRUCTURAL, ConfigChange.between(BASE, sticky).kind());
    ProxyConfig api = parse("services/web/url_beg", "/api");
    ProxyConfig apiKeptAndSticky =
        parse(
            "services/web/url_beg",
            "/api",
            "services/web/keep_path",
            "true",
            "services/web/balance",
            "source");
    assertEquals(
        Kind.STRUCTURAL,
        ConfigChange.between(api, apiKeptAndSticky).kind(),
        "keep_path beside another setting");
    ProxyConfig movedTcp = parse("tcp-services/db/external_port", "5433");
    assertEquals(Kind.STRUCTURAL, ConfigChange.between(BASE, movedTcp).kind());
  }

  @Test
  void a_discovery_port_that_gives_the_same_backends_is_no_change() {
    ProxyConfig otherPort =
        parse("services/web/port", "8080", "tcp-services/db/internal_port", "6432");
    assertEquals(Kind.NONE, ConfigChange.between(BASE, otherPort).kind());
  }

  @Test
  void an_inconsistent_config_cannot_be_built() {
    TcpService db = BASE.tcp().get(0);
    TcpService clash =
        new TcpService(
            ServiceName.of("db2"),
            db.externalPort(),
            db.internalPort(),
            db.balance(),
            List.of(),
            List.of());
    var e =
        assertThrows(
            IllegalArgumentException.class,
            () -> new ProxyConfig(1, BASE.http(), List.of(db, clash)));
    assertEquals("TCP external port 5432 appears twice", e.getMessage());
  }
}
