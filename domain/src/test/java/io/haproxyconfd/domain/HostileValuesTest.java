package io.haproxyconfd.domain;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Malicious and malformed values, each beside good services: every one is refused with a reason
 * that names its key, and the good services come out exactly as they would without it.
 */
class HostileValuesTest {

  private static final ParseResult BASELINE =
      ConfigParser.parse(KeySnapshot.of(1, HostileCorpus.GOOD), Keys.DNS);

  @Test
  void the_table_is_large_enough() {
    assertTrue(
        HostileCorpus.cases().count() >= 300,
        "at least 300 cases, was " + HostileCorpus.cases().count());
    assertEquals(2, BASELINE.config().http().size() + BASELINE.config().tcp().size() - 0);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("io.haproxyconfd.domain.HostileCorpus#cases")
  void is_refused_by_key_and_reason_and_harms_no_other_service(HostileCorpus.Case c) {
    Map<String, String> values = new TreeMap<>(HostileCorpus.GOOD);
    values.putAll(HostileCorpus.BAD_BASE);
    values.put(c.key(), c.value());
    ParseResult result = ConfigParser.parse(KeySnapshot.of(1, values), Keys.DNS);

    Problem problem =
        result.problems().stream()
            .filter(p -> p.key().equals(c.key()))
            .findFirst()
            .orElseThrow(() -> new AssertionError("no problem names " + c.key() + ": " + result));
    assertFalse(problem.reason().isBlank());
    assertFalse(problem.toString().contains("\n"), problem.toString());
    assertTrue(problem.toString().length() < 400, "the problem line stays readable");

    String service = c.key().split("/")[0] + "/" + c.key().split("/")[1];
    boolean present =
        result.config().http().stream().anyMatch(s -> ("services/" + s.name()).equals(service))
            || result.config().tcp().stream()
                .anyMatch(s -> ("tcp-services/" + s.name()).equals(service));
    assertEquals(problem.effect() != Problem.Effect.SERVICE_LEFT_OUT, present, problem.toString());

    assertEquals(
        BASELINE.config().httpService(ServiceName.of("good")),
        result.config().httpService(ServiceName.of("good")));
    assertEquals(
        BASELINE.config().tcpService(ServiceName.of("goodtcp")),
        result.config().tcpService(ServiceName.of("goodtcp")));

    String everything = result.config().toString();
    for (String forbidden : List.of("\n", "\r", "\u0000", "\"", "#", "`", "%", "evil")) {
      assertFalse(everything.contains(forbidden), "config holds " + Problem.shorten(forbidden));
    }
  }

  @Test
  void invalid_utf8_is_named_as_such() {
    String value = KeySnapshot.decode("example\u00e9.org".getBytes(StandardCharsets.ISO_8859_1));
    ParseResult r = Keys.of("services/web/domain", value, "services/web/port", "80").parse();
    assertEquals("value is not valid UTF-8", r.problems().get(0).reason());
  }

  @Test
  void a_proxy_id_cannot_hold_what_a_store_client_would_mangle_in_a_url() {
    for (String id : List.of("a?b", "a#b", "a b", "a/b", "a%2fb", "a&b", "", "x".repeat(64))) {
      var e =
          org.junit.jupiter.api.Assertions.assertThrows(
              IllegalArgumentException.class, () -> new ProxyId(id));
      assertTrue(e.getMessage().startsWith("HAPROXY_ID"), e.getMessage());
    }
    assertEquals("haproxy-haproxy-1", new ProxyId("haproxy-1").folder());
  }

  @Test
  void a_bad_service_name_is_refused_by_its_folder() {
    Map<String, String> values = new TreeMap<>(HostileCorpus.GOOD);
    for (String name : List.of("bad name", "-bad", "x".repeat(64), "b\nad", "b#d")) {
      values.put("services/" + name + "/domain", "x.example.org");
      values.put("services/" + name + "/port", "80");
    }
    ParseResult r = ConfigParser.parse(KeySnapshot.of(1, values), Keys.DNS);
    assertEquals(BASELINE.config(), r.config());
    assertEquals(5, r.problems().size());
    assertTrue(r.problems().stream().allMatch(p -> p.reason().startsWith("service name")));
  }

  @Test
  void a_problem_line_is_one_printable_line_whatever_the_key_holds() {
    Map<String, String> values = new TreeMap<>(HostileCorpus.GOOD);
    values.put("services/b\nad/domain", "x.example.org");
    values.put("services/b\u00e9d/domain", "x.example.org");
    ParseResult r = ConfigParser.parse(KeySnapshot.of(1, values), Keys.DNS);
    assertEquals(2, r.problems().size(), r.problems().toString());
    for (Problem p : r.problems()) {
      assertTrue(p.toString().chars().allMatch(c -> c >= 0x20 && c < 0x7f), p.toString());
    }
    assertTrue(
        r.problems().stream().anyMatch(p -> p.toString().startsWith("services/b\\nad")),
        r.problems().toString());
  }

  @Test
  void folders_that_are_no_service_names_and_a_value_on_a_folder_are_named() {
    Map<String, String> values = new TreeMap<>(HostileCorpus.GOOD);
    for (String name : List.of(".", "..", "", "a/b")) {
      values.put("services/" + name + "/domain", "x.example.org");
      values.put("services/" + name + "/port", "80");
    }
    values.put("services/web", "a value where a folder belongs");
    values.put("tcp-services/db", "3306");
    ParseResult r = ConfigParser.parse(KeySnapshot.of(1, values), Keys.DNS);
    assertEquals(BASELINE.config(), r.config());
    for (String key :
        List.of(
            "services/.",
            "services/..",
            "services/",
            "services/a",
            "services/web",
            "tcp-services/db")) {
      assertTrue(
          r.problems().stream().anyMatch(p -> p.key().equals(key) || p.key().startsWith(key + "/")),
          key + " not named: " + r.problems());
    }
  }

  @Test
  void an_internationalized_host_is_refused_with_its_punycode_and_the_punycode_is_taken() {
    Map<String, String> values = new TreeMap<>(HostileCorpus.GOOD);
    values.put("services/books/domain", "b\u00fccher.example.org");
    values.put("services/books/port", "80");
    values.put("services/ascii/domain", "xn--bcher-kva.example.net");
    values.put("services/ascii/port", "80");
    ParseResult r = ConfigParser.parse(KeySnapshot.of(1, values), Keys.DNS);
    assertEquals(1, r.problems().size(), r.problems().toString());
    assertTrue(
        r.problems().get(0).reason().contains("write it as xn--bcher-kva.example.org"),
        r.problems().toString());
    assertTrue(
        r.config().http().stream()
            .anyMatch(
                s ->
                    s.hosts().stream()
                        .anyMatch(h -> h.value().equals("xn--bcher-kva.example.net"))),
        r.config().toString());
  }

  @Test
  void hosts_that_differ_only_by_case_clash_across_services() {
    Map<String, String> values = new TreeMap<>(HostileCorpus.GOOD);
    values.put("services/shop1/domain", "Shop.example.org");
    values.put("services/shop1/port", "80");
    values.put("services/shop2/domain", "shop.EXAMPLE.org");
    values.put("services/shop2/port", "80");
    ParseResult r = ConfigParser.parse(KeySnapshot.of(1, values), Keys.DNS);
    assertEquals(1, r.problems().size(), r.problems().toString());
    assertTrue(r.problems().get(0).key().startsWith("services/shop2"), r.problems().toString());
    assertTrue(r.problems().get(0).reason().contains("already served"), r.problems().toString());
  }

  @Test
  void fifty_thousand_backend_keys_under_one_service_are_one_problem_not_fifty_thousand() {
    ParseOptions keys = Keys.DNS.withDiscovery(ParseOptions.Discovery.KEYS);
    Map<String, String> values = new TreeMap<>(HostileCorpus.GOOD);
    values.put("services/huge/domain", "huge.example.org");
    for (int i = 0; i < 50_000; i++) {
      values.put("services/huge/i" + i, "10.0." + (i / 256 % 256) + "." + (i % 256) + ":80");
    }
    ParseResult r = ConfigParser.parse(KeySnapshot.of(1, values), keys);
    assertEquals(1, r.problems().size(), Problem.shorten(r.problems().toString()));
    assertEquals("services/huge", r.problems().get(0).key());
    assertTrue(
        r.problems().get(0).reason().contains("50000 backend keys"), r.problems().toString());
    assertEquals(Problem.Effect.SERVICE_LEFT_OUT, r.problems().get(0).effect());

    values.keySet().removeIf(k -> k.matches("services/huge/i[0-9]{4,}"));
    assertEquals(
        List.of(),
        ConfigParser.parse(KeySnapshot.of(1, values), keys).problems(),
        "1,000 are fine");
  }
}
