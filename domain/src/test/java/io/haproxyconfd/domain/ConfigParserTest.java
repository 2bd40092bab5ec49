package io.haproxyconfd.domain;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.haproxyconfd.domain.ParseOptions.Discovery;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

class ConfigParserTest {

  static HttpService http(ParseResult r, String name) {
    return r.config()
        .httpService(ServiceName.of(name))
        .orElseThrow(() -> new AssertionError(name + " missing; problems: " + r.problems()));
  }

  static TcpService tcp(ParseResult r, String name) {
    return r.config()
        .tcpService(ServiceName.of(name))
        .orElseThrow(() -> new AssertionError(name + " missing; problems: " + r.problems()));
  }

  static Problem problemAt(ParseResult r, String key) {
    return r.problems().stream()
        .filter(p -> p.key().equals(key))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no problem at " + key + " in " + r.problems()));
  }

  @Nested
  class The_seed_readmes {
    @Test
    void myapp_on_example_org_is_resolved_by_dns_on_port_80() {
      ParseResult r =
          Keys.of("services/myapp/domain", "example.org", "services/myapp/port", "80").parse();
      HttpService s = http(r, "myapp");
      assertEquals(List.of(HostPattern.of("example.org")), s.hosts());
      assertEquals(Optional.of(Port.of(80)), s.port());
      assertEquals(Balance.ROUNDROBIN, s.policy().balance());
      assertTrue(s.backends().isEmpty());
      assertEquals(List.of(), r.problems());
    }

    @Test
    void myapi_and_otherapi_are_routed_by_path_prefix_with_balance() {
      ParseResult r =
          Keys.of(
                  "services/myapi/domain", "example.org",
                  "services/myapi/port", "80",
                  "services/myapi/url_beg", "/api_A",
                  "services/myapi/balance", "leastconn",
                  "services/otherapi/domain", "example.org",
                  "services/otherapi/port", "80",
                  "services/otherapi/url_beg", "/api_B")
              .parse();
      assertEquals(List.of(PathPrefix.of("/api_A")), http(r, "myapi").paths());
      assertEquals(Balance.LEASTCONN, http(r, "myapi").policy().balance());
      assertFalse(http(r, "myapi").policy().keepPath());
      assertEquals(List.of(PathPrefix.of("/api_B")), http(r, "otherapi").paths());
      assertEquals(2, r.config().routes().size());
      assertEquals(Route.Kind.HOST_AND_PATH, r.config().routes().get(0).kind());
    }

    @Test
    void galera_is_a_tcp_service_on_3306() {
      ParseResult r =
          Keys.of(
                  "tcp-services/galera/external_port", "3306",
                  "tcp-services/galera/internal_port", "3306")
              .parse();
      TcpService s = tcp(r, "galera");
      assertEquals(Port.of(3306), s.externalPort());
      assertEquals(Optional.of(Port.of(3306)), s.internalPort());
      assertEquals(Balance.LEASTCONN, s.balance());
    }

    @Test
    void ghost_backends_come_from_agent_written_keys() {
      ParseResult r =
          Keys.of(
                  "services/ghost/domain", "blog.example.org",
                  "services/ghost/ghost-1", "10.81.16.197:80",
                  "services/ghost/ghost-2", "10.81.10.33:80")
              .parse();
      assertEquals(
          List.of(Backend.of("10.81.10.33", 80), Backend.of("10.81.16.197", 80)),
          http(r, "ghost").backends());
      assertEquals(List.of(), r.problems(), "agent keys need no port");
    }

    @Test
    void agent_keys_may_name_hosts_only_when_the_operator_allows_it() {
      Keys keys =
          Keys.of(
              "services/ghost/domain", "blog.example.org",
              "services/ghost/ghost-1", "ghost-1.internal:2368",
              "services/ghost/upstreams/ghost-2", "10.81.10.33:80");
      ParseResult off = keys.parse();
      assertEquals(List.of(Backend.of("10.81.10.33", 80)), http(off, "ghost").backends());
      Problem refused = problemAt(off, "services/ghost/ghost-1");
      assertEquals(Problem.Effect.KEY_IGNORED, refused.effect());
      assertTrue(refused.reason().contains("--agent-host-names"), refused.reason());

      ParseResult on = keys.parse(Keys.DNS.withAgentHostNames(true));
      assertEquals(List.of(), on.problems());
      assertEquals(
          List.of(new NamedEndpoint("ghost-1.internal", Port.of(2368))),
          http(on, "ghost").agentNames());
      assertEquals(List.of(Backend.of("10.81.10.33", 80)), http(on, "ghost").backends());
    }

    @Test
    void the_kontena_layout_gives_the_same_service_as_the_seed_layout() {
      ParseResult seed =
          Keys.of(
                  "services/ghost/domain", "blog.example.org",
                  "services/ghost/url_beg", "/blog",
                  "services/ghost/keep_path", "true",
                  "services/ghost/ghost-1", "10.81.16.197:80",
                  "services/ghost/ghost-2", "10.81.10.33:80")
              .parse();
      ParseResult kontena =
          Keys.of(
                  "services/ghost/virtual_hosts", "blog.example.org",
                  "services/ghost/virtual_path", "/blog",
                  "services/ghost/keep_virtual_path", "true",
                  "services/ghost/upstreams/ghost-1", "10.81.16.197:80",
                  "services/ghost/upstreams/ghost-2", "10.81.10.33:80")
              .parse();
      assertEquals(seed.config(), kontena.config());
      assertEquals(List.of(), kontena.problems());
    }
  }

  @Nested
  class Every_key {
    @Test
    void domain_takes_a_comma_list_and_wildcards_and_ignores_case() {
      HttpService s =
          http(
              Keys.of(
                      "services/web/domain", " Example.ORG, *.Example.org ,,www.example.net",
                      "services/web/port", "8080")
                  .parse(),
              "web");
      assertEquals(
          List.of(
              HostPattern.of("*.example.org"),
              HostPattern.of("example.org"),
              HostPattern.of("www.example.net")),
          s.hosts());
      assertTrue(s.hosts().get(0).isWildcard());
      assertEquals(".example.org", s.hosts().get(0).suffix());
    }

    @Test
    void url_beg_takes_a_comma_list_and_url_reg_a_regex() {
      HttpService s =
          http(
              Keys.of(
                      "services/web/url_beg", "/a,/bb",
                      "services/web/url_reg", "^/v[0-9]+/items$",
                      "services/web/port", "80")
                  .parse(),
              "web");
      assertEquals(
          List.of(PathPrefix.of("/a"), PathPrefix.of("/bb"), PathRegex.of("^/v[0-9]+/items$")),
          s.paths());
    }

    @Test
    void balance_defaults_to_roundrobin_and_accepts_the_old_balancing_alias() {
      ParseResult r =
          Keys.of(
                  "services/a/domain",
                  "a.example.org",
                  "services/a/port",
                  "80",
                  "services/b/domain",
                  "b.example.org",
                  "services/b/port",
                  "80",
                  "services/b/balancing",
                  "source")
              .parse();
      assertEquals(Balance.ROUNDROBIN, http(r, "a").policy().balance());
      assertEquals(Balance.SOURCE, http(r, "b").policy().balance());
    }

    @Test
    void cert_is_parsed_into_a_certificate() {
      String pem = TestCertificates.rsa("secure.example.org");
      HttpService s =
          http(
              Keys.of(
                      "services/web/domain", "secure.example.org",
                      "services/web/port", "80",
                      "services/web/cert", pem)
                  .parse(),
              "web");
      assertEquals(List.of("secure.example.org"), s.policy().certificate().orElseThrow().names());
    }

    @Test
    void a_bad_cert_leaves_the_service_on_http_only() {
      ParseResult r =
          Keys.of(
                  "services/web/domain", "example.org",
                  "services/web/port", "80",
                  "services/web/cert",
                      "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----")
              .parse();
      assertTrue(http(r, "web").policy().certificate().isEmpty());
      Problem p = problemAt(r, "services/web/cert");
      assertEquals(Problem.Effect.KEY_IGNORED, p.effect());
      assertTrue(p.reason().contains("HTTP only"), p.reason());
    }

    @Test
    void an_expired_cert_is_kept_with_a_warning() {
      String pem = TestCertificates.rsa("old.example.org");
      ParseOptions later = ParseOptions.defaults(Keys.NOW.plusSeconds(400L * 86400));
      ParseResult r =
          Keys.of(
                  "services/web/domain", "old.example.org",
                  "services/web/port", "80",
                  "services/web/cert", pem)
              .parse(later);
      assertTrue(http(r, "web").policy().certificate().isPresent());
      assertEquals(Problem.Effect.WARNING, problemAt(r, "services/web/cert").effect());
    }

    @Test
    void peer_keys_cookie_health_checks_basic_auth_and_force_https() {
      String hash = "$6$saltsalt$" + "a".repeat(86);
      HttpService s =
          http(
              Keys.of(
                      "services/web/domain", "example.org",
                      "services/web/port", "80",
                      "services/web/cookie", "",
                      "services/web/health_check_uri", "/health",
                      "services/web/health_check_port", "8081",
                      "services/web/basic_auth", "alice:" + hash + "\nbob:" + hash,
                      "services/web/force_https", "true")
                  .parse(),
              "web");
      assertEquals(Optional.of(new StickyCookie("SERVERID")), s.policy().cookie());
      assertEquals(
          Optional.of(new HealthCheck("/health", Optional.of(Port.of(8081)))),
          s.policy().healthCheck());
      assertEquals(
          List.of("alice", "bob"),
          s.policy().basicAuth().orElseThrow().users().stream().map(BasicAuth.User::name).toList());
      assertTrue(s.policy().forceHttps());
    }

    @Test
    void kontena_basic_auth_secrets_and_named_cookie() {
      String hash = "$5$rounds$" + "b".repeat(43);
      HttpService s =
          http(
              Keys.of(
                      "services/web/virtual_hosts", "example.org",
                      "services/web/port", "80",
                      "services/web/cookie", "JSESSIONID",
                      "services/web/basic_auth_secrets", "user admin password " + hash + "\n")
                  .parse(),
              "web");
      assertEquals(Optional.of(new StickyCookie("JSESSIONID")), s.policy().cookie());
      assertEquals("admin", s.policy().basicAuth().orElseThrow().users().get(0).name());
    }

    @Test
    void kontenas_insecure_password_is_taken_as_its_tests_wrote_it() {
      HttpService s =
          http(
              Keys.of(
                      "services/web/virtual_hosts", "example.org",
                      "services/web/port", "80",
                      "services/web/basic_auth_secrets", "user admin insecure-password passwd")
                  .parse(),
              "web");
      assertEquals(
          List.of(new BasicAuth.User("admin", "passwd", true)),
          s.policy().basicAuth().orElseThrow().users());
    }

    @Test
    void custom_settings_are_ignored_unless_the_operator_turns_them_on() {
      Keys keys =
          Keys.of(
              "services/web/domain", "example.org",
              "services/web/port", "80",
              "services/web/custom_settings", "timeout server 5m\nhttp-response set-header X-A b");
      ParseResult off = keys.parse();
      assertTrue(http(off, "web").policy().customSettings().isEmpty());
      assertEquals(
          Problem.Effect.KEY_IGNORED, problemAt(off, "services/web/custom_settings").effect());
      ParseResult on = keys.parse(Keys.DNS.withCustomSettingsAllowed(true));
      assertEquals(
          List.of("timeout server 5m", "http-response set-header X-A b"),
          http(on, "web").policy().customSettings().orElseThrow().lines());
      assertEquals(List.of(), on.problems());
    }

    @Test
    void custom_settings_may_not_open_a_section() {
      ParseResult r =
          Keys.of(
                  "services/web/domain", "example.org",
                  "services/web/port", "80",
                  "services/web/custom_settings", "timeout server 5m\nfrontend evil")
              .parse(Keys.DNS.withCustomSettingsAllowed(true));
      assertTrue(r.leftOut().contains(ServiceName.of("web")));
      assertTrue(problemAt(r, "services/web/custom_settings").reason().contains("section"));
    }

    @Test
    void tcp_balance_and_agent_backends() {
      ParseResult r =
          Keys.of(
                  "tcp-services/db/external_port", "5432",
                  "tcp-services/db/balance", "roundrobin",
                  "tcp-services/db/db-1", "10.0.0.5:5432",
                  "tcp-services/db/upstreams/db-2", "[2001:db8::7]:5432")
              .parse();
      TcpService s = tcp(r, "db");
      assertEquals(Balance.ROUNDROBIN, s.balance());
      assertEquals(
          List.of(Backend.of("10.0.0.5", 5432), Backend.of("2001:db8::7", 5432)), s.backends());
    }

    @Test
    void the_kontena_forks_ports_key_is_the_tcp_services_listening_port() {
      for (String value : List.of("3306", ":3306", "*:3306", "0.0.0.0:3306", "[::]:3306")) {
        ParseResult r =
            Keys.of(
                    "tcp-services/galera/ports",
                    value,
                    "tcp-services/galera/upstreams/node1",
                    "10.0.0.5:3306")
                .parse();
        assertEquals(List.of(), r.problems(), value);
        assertEquals(Port.of(3306), tcp(r, "galera").externalPort(), value);
      }
      ParseResult own =
          Keys.of(
                  "tcp-services/galera/ports", "10.1.1.1:3306",
                  "tcp-services/galera/upstreams/node1", "10.0.0.5:3306")
              .parse();
      assertTrue(
          problemAt(own, "tcp-services/galera/ports").reason().contains("write the port alone"),
          own.problems().toString());
    }

    @Test
    void values_written_with_a_trailing_newline_are_read_without_it() {
      HttpService s =
          http(
              Keys.of("services/web/domain", "example.org\n", "services/web/port", "80\n").parse(),
              "web");
      assertEquals(List.of(HostPattern.of("example.org")), s.hosts());
      assertEquals(Optional.of(Port.of(80)), s.port());
    }
  }

  @Nested
  class Missing_things {
    @Test
    void no_keys_at_all_means_no_services() {
      ParseResult r = ConfigParser.parse(KeySnapshot.empty(7), Keys.DNS);
      assertEquals(new ProxyConfig(7, List.of(), List.of()), r.config());
      assertEquals(List.of(), r.problems());
    }

    @Test
    void etcd_v2_folder_markers_mean_nothing() {
      ParseResult r =
          Keys.of(
                  "services",
                  "",
                  "tcp-services",
                  "",
                  "services/web",
                  "",
                  "services/web/domain",
                  "example.org",
                  "services/web/port",
                  "80")
              .parse();
      assertEquals(1, r.config().http().size());
      assertEquals(List.of(), r.problems());
    }

    @Test
    void a_service_needs_a_host_or_a_path() {
      ParseResult r = Keys.of("services/web/port", "80").parse();
      assertEquals(Problem.Effect.SERVICE_LEFT_OUT, problemAt(r, "services/web/domain").effect());
    }

    @Test
    void dns_discovery_needs_a_port_but_keys_and_catalog_discovery_do_not() {
      Keys keys =
          Keys.of("services/web/domain", "example.org", "tcp-services/db/external_port", "5432");
      ParseResult dns = keys.parse();
      assertTrue(problemAt(dns, "services/web/port").reason().startsWith("missing"));
      assertTrue(problemAt(dns, "tcp-services/db/internal_port").reason().startsWith("missing"));
      assertEquals(Set.of(ServiceName.of("web"), ServiceName.of("db")), dns.leftOut());
      for (Discovery d : List.of(Discovery.KEYS, Discovery.CATALOG)) {
        ParseResult r = keys.parse(Keys.DNS.withDiscovery(d));
        assertEquals(List.of(), r.problems(), d.name());
        assertEquals(1, r.config().http().size());
        assertEquals(1, r.config().tcp().size());
      }
    }

    @Test
    void a_tcp_service_needs_an_external_port() {
      ParseResult r = Keys.of("tcp-services/db/internal_port", "5432").parse();
      assertTrue(problemAt(r, "tcp-services/db/external_port").reason().startsWith("missing"));
    }
  }

  @Nested
  class Conflicts {
    @Test
    void the_tcp_service_that_was_there_first_keeps_its_port() {
      ParseResult r =
          Keys.of(
                  "tcp-services/zeta/external_port",
                  "3306",
                  "tcp-services/zeta/internal_port",
                  "3306")
              .put(
                  "tcp-services/alpha/external_port",
                  "3306",
                  "tcp-services/alpha/internal_port",
                  "1")
              .parse();
      assertEquals(List.of("zeta"), r.config().tcp().stream().map(s -> s.name().value()).toList());
      Problem p = problemAt(r, "tcp-services/alpha/external_port");
      assertTrue(p.reason().contains("already used by TCP service zeta"), p.reason());
    }

    @Test
    void tcp_services_may_not_take_the_http_https_or_stats_port() {
      for (String port : List.of("80", "443", "1000")) {
        ParseResult r =
            Keys.of(
                    "tcp-services/t/external_port", port,
                    "tcp-services/t/internal_port", "1",
                    "services/web/domain", "example.org",
                    "services/web/port", "80")
                .parse();
        assertTrue(r.config().tcp().isEmpty(), port);
        assertEquals(1, r.config().http().size(), "the HTTP service is unaffected");
        assertTrue(problemAt(r, "tcp-services/t/external_port").reason().contains("port " + port));
      }
    }

    @Test
    void the_http_service_that_was_there_first_keeps_its_route_and_the_other_only_loses_that_one() {
      ParseResult r =
          Keys.of("services/old/domain", "example.org", "services/old/port", "80")
              .put("services/new/domain", "example.org,new.example.org", "services/new/port", "80")
              .parse();
      assertEquals(
          List.of("example.org -> old", "new.example.org -> new"),
          r.config().routes().stream().map(Route::toString).sorted().toList());
      Problem p = problemAt(r, "services/new/domain");
      assertEquals(Problem.Effect.KEY_IGNORED, p.effect());
      assertTrue(
          p.reason()
              .contains(
                  "route 'example.org' of services/new/domain is already served through"
                      + " services/old/domain"),
          p.reason());
    }

    @Test
    void a_service_whose_every_route_is_taken_is_left_out_naming_both_keys() {
      ParseResult r =
          Keys.of("services/old/url_beg", "/api", "services/old/port", "80")
              .put("services/new/virtual_path", "/api", "services/new/port", "80")
              .parse();
      assertEquals(Set.of(ServiceName.of("new")), r.leftOut());
      Problem p = problemAt(r, "services/new/virtual_path");
      assertEquals(Problem.Effect.SERVICE_LEFT_OUT, p.effect());
      assertTrue(p.reason().contains("services/old/url_beg"), p.reason());
    }

    @Test
    void only_the_clashing_host_and_path_pair_is_withheld() {
      ParseResult r =
          Keys.of("services/old/domain", "a.example.org", "services/old/url_beg", "/api")
              .put("services/old/port", "80")
              .put(
                  "services/new/domain", "a.example.org,b.example.org",
                  "services/new/url_beg", "/api,/web",
                  "services/new/port", "80")
              .parse();
      assertEquals(
          List.of(
              "a.example.org /api -> old",
              "a.example.org /web -> new",
              "b.example.org /api -> new",
              "b.example.org /web -> new"),
          r.config().routes().stream().map(Route::toString).sorted().toList());
      assertTrue(
          problemAt(r, "services/new/domain")
              .reason()
              .contains("services/new/domain + services/new/url_beg"));
    }

    @Test
    void an_alias_and_its_key_that_disagree_are_a_problem() {
      ParseResult r =
          Keys.of(
                  "services/web/domain", "a.example.org",
                  "services/web/virtual_hosts", "b.example.org",
                  "services/web/port", "80")
              .parse();
      assertTrue(r.config().http().isEmpty());
      assertTrue(problemAt(r, "services/web/virtual_hosts").reason().contains("conflicts"));
    }
  }

  @Nested
  class The_seed_images_values {
    @Test
    void a_domain_holding_several_names_separated_by_spaces_serves_each() {
      ParseResult r =
          Keys.of(
                  "services/web/domain", "example.org  www.example.org\tother.example.org",
                  "services/web/port", "80")
              .parse();
      assertEquals(
          List.of(
              HostPattern.of("example.org"),
              HostPattern.of("other.example.org"),
              HostPattern.of("www.example.org")),
          r.config().http().get(0).hosts());
      ParseResult broken =
          Keys.of("services/web/domain", "example.org\nwww.example.org", "services/web/port", "80")
              .parse();
      assertEquals(Set.of(ServiceName.of("web")), broken.leftOut());
    }

    @Test
    void balancing_cookie_means_sticky_sessions_round_robin() {
      HttpService s =
          Keys.of(
                  "services/myapp/domain", "example.org",
                  "services/myapp/port", "80",
                  "services/myapp/balancing", "cookie")
              .parse()
              .config()
              .http()
              .get(0);
      assertEquals(Balance.ROUNDROBIN, s.policy().balance());
      assertEquals(StickyCookie.DEFAULT_NAME, s.policy().cookie().orElseThrow().name());
    }

    @Test
    void the_seed_readmes_myapp_and_myapi_warn_that_the_host_now_wins_and_name_the_key() {
      ParseResult r =
          Keys.of(
                  "services/myapp/domain", "example.org",
                  "services/myapp/port", "80",
                  "services/myapi/url_beg", "/api_A",
                  "services/myapi/port", "80",
                  "services/zapi/url_beg", "/api_Z",
                  "services/zapi/port", "80")
              .parse();
      Problem p = problemAt(r, "services/myapi/url_beg");
      assertEquals(Problem.Effect.WARNING, p.effect());
      assertTrue(p.reason().contains("example.org (services/myapp)"), p.reason());
      assertTrue(p.reason().contains("services/myapi/domain"), p.reason());
      // zapi sorts after myapp: the seed sent example.org/api_Z to myapp too. Nothing differs.
      assertTrue(
          r.problems().stream().noneMatch(x -> x.key().startsWith("services/zapi")),
          r.problems().toString());
      assertEquals(3, r.config().http().size(), "all served");
    }

    @Test
    void the_seed_entrypoints_empty_certs_folder_means_nothing() {
      ParseResult r =
          Keys.of("certs", "", "services/web/domain", "example.org", "services/web/port", "80")
              .parse();
      assertEquals(List.of(), r.problems());
    }

    @Test
    void the_seed_cert_scripts_certs_key_is_a_warning_not_a_failure() {
      ParseResult r =
          Keys.of("certs", "true", "services/web/domain", "example.org", "services/web/port", "80")
              .parse();
      Problem p = problemAt(r, "certs");
      assertEquals(Problem.Effect.WARNING, p.effect());
      assertTrue(p.reason().contains("services/<name>/cert"), p.reason());
      assertEquals(1, r.config().http().size());
    }
  }

  @Nested
  class Last_good_versions {
    final ParseOptions keys = Keys.DNS.withDiscovery(ParseOptions.Discovery.KEYS);

    ParseResult serving() {
      return Keys.of(
              "services/web/domain", "web.example.org",
              "services/web/w1", "10.0.0.1:80",
              "services/web/w2", "10.0.0.2:80")
          .parse(keys);
    }

    @Test
    void a_serving_service_with_a_bad_value_keeps_its_last_good_version() {
      ParseResult before = serving();
      ParseResult r =
          ConfigParser.parse(
              Keys.of(
                      "services/web/domain", "web.example.org\nbackend evil",
                      "services/web/w1", "10.0.0.1:80",
                      "services/web/w2", "10.0.0.3:80")
                  .snapshot(),
              keys,
              before.lastGood());
      assertEquals(before.config().http(), r.config().http());
      Problem p = problemAt(r, "services/web/domain");
      assertEquals(Problem.Effect.LAST_GOOD_KEPT, p.effect());
      assertTrue(p.toString().endsWith("its last good version keeps serving"), p.toString());
      assertEquals(before.lastGood(), r.lastGood());
      assertTrue(r.leftOut().isEmpty());
    }

    @Test
    void a_serving_backend_key_with_a_bad_value_keeps_the_last_good_version() {
      ParseResult before = serving();
      ParseResult r =
          ConfigParser.parse(
              Keys.of(
                      "services/web/domain", "web.example.org",
                      "services/web/w1", "10.0.0.1:80 check addr 6.6.6.6",
                      "services/web/w2", "10.0.0.2:80")
                  .snapshot(),
              keys,
              before.lastGood());
      assertEquals(before.config().http(), r.config().http());
      assertEquals(Problem.Effect.LAST_GOOD_KEPT, problemAt(r, "services/web/w1").effect());
    }

    @Test
    void a_new_junk_key_is_ignored_and_the_service_still_takes_its_changes() {
      ParseResult before = serving();
      ParseResult r =
          ConfigParser.parse(
              Keys.of(
                      "services/web/domain", "web.example.org",
                      "services/web/w1", "10.0.0.9:80",
                      "services/web/notes", "hello")
                  .snapshot(),
              keys,
              before.lastGood());
      assertEquals(List.of(Backend.parse("10.0.0.9:80")), r.config().http().get(0).backends());
      assertEquals(Problem.Effect.KEY_IGNORED, problemAt(r, "services/web/notes").effect());
    }

    @Test
    void good_keys_again_are_applied_and_a_deleted_service_is_forgotten() {
      ParseResult before = serving();
      ParseResult fixed =
          ConfigParser.parse(
              Keys.of("services/web/domain", "new.example.org", "services/web/w1", "10.0.0.1:80")
                  .snapshot(),
              keys,
              before.lastGood());
      assertEquals(
          List.of(HostPattern.of("new.example.org")), fixed.config().http().get(0).hosts());
      assertTrue(fixed.problems().isEmpty(), fixed.problems().toString());
      ParseResult deleted = ConfigParser.parse(Keys.of().snapshot(), keys, fixed.lastGood());
      assertTrue(deleted.config().http().isEmpty());
      assertTrue(deleted.lastGood().services().isEmpty());
    }

    @Test
    void a_new_service_with_a_bad_value_is_left_out() {
      ParseResult r =
          ConfigParser.parse(
              Keys.of("services/new/domain", "-bad.example.org", "services/new/w1", "10.0.0.1:80")
                  .snapshot(),
              keys,
              serving().lastGood());
      assertEquals(Problem.Effect.SERVICE_LEFT_OUT, problemAt(r, "services/new/domain").effect());
      assertEquals(Set.of(ServiceName.of("new")), r.leftOut());
    }
  }

  @Nested
  class Unknown_keys {
    @Test
    void are_reported_and_ignored_without_harming_the_service() {
      ParseResult r =
          Keys.of(
                  "services/web/domain", "example.org",
                  "services/web/port", "80",
                  "services/web/domian", "typo.example.org",
                  "services/web/upstreams/x", "not-an-address",
                  "services/web/a/b", "1.2.3.4:80",
                  "global/setting", "x")
              .parse();
      assertEquals(1, r.config().http().size());
      assertEquals(
          List.of(
              "global/setting",
              "services/web/a/b",
              "services/web/domian",
              "services/web/upstreams/x"),
          r.problems().stream().map(Problem::key).toList());
      assertTrue(r.problems().stream().allMatch(p -> p.effect() == Problem.Effect.KEY_IGNORED));
    }
  }

  @Nested
  class Order {
    @Test
    void most_specific_route_first() {
      ParseResult r =
          Keys.of(
                  "services/p/url_beg",
                  "/api",
                  "services/p/port",
                  "80",
                  "services/pl/url_beg",
                  "/api/v2",
                  "services/pl/port",
                  "80",
                  "services/rx/url_reg",
                  "^/x",
                  "services/rx/port",
                  "80",
                  "services/h/domain",
                  "example.org",
                  "services/h/port",
                  "80",
                  "services/w/domain",
                  "*.example.org",
                  "services/w/port",
                  "80",
                  "services/hp/domain",
                  "example.org",
                  "services/hp/url_beg",
                  "/a",
                  "services/hp/port",
                  "80",
                  "services/hpl/domain",
                  "example.org",
                  "services/hpl/url_beg",
                  "/a/long",
                  "services/hpl/port",
                  "80")
              .parse();
      assertEquals(
          List.of(
              "example.org /a/long -> hpl",
              "example.org /a -> hp",
              "example.org -> h",
              "*.example.org -> w",
              "* /api/v2 -> pl",
              "* /api -> p",
              "* ~^/x -> rx"),
          r.config().routes().stream().map(Route::toString).toList());
    }

    @Test
    void the_same_snapshot_always_gives_the_same_config() {
      Map<String, String> values = new TreeMap<>();
      for (int i = 0; i < 200; i++) {
        values.put("services/s" + i + "/domain", "s" + i + ".example.org");
        values.put("services/s" + i + "/port", Integer.toString(1000 + i));
        values.put("services/s" + i + "/b" + (i % 3), "10.0.0." + (i % 250) + ":80");
      }
      ParseResult a = ConfigParser.parse(KeySnapshot.of(3, values), Keys.DNS);
      ParseResult b =
          ConfigParser.parse(KeySnapshot.of(3, new TreeMap<>(values).descendingMap()), Keys.DNS);
      assertEquals(a, b);
      assertEquals(a.config().routes(), b.config().routes());
      assertEquals(200, a.config().http().size());
    }
  }
}
