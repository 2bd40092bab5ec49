package io.haproxyconfd.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.haproxyconfd.domain.Backend;
import io.haproxyconfd.domain.HostPattern;
import io.haproxyconfd.domain.HttpService;
import io.haproxyconfd.domain.PathPrefix;
import io.haproxyconfd.domain.Problem;
import io.haproxyconfd.domain.ProxyConfig;
import io.haproxyconfd.domain.ServiceName;
import io.haproxyconfd.ports.ApplyResult;
import io.haproxyconfd.ports.ServerHealth;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class StatusPageTest {
  private static final Instant NOW = Instant.parse("2026-12-07T10:00:00Z");
  private static final String HOSTILE = "<script>document.title='pwned'</script>\"><img src=x>";

  private final List<Collection<String>> asked = new ArrayList<>();

  private static HttpService web(int i) {
    return HttpService.of(
            ServiceName.of(String.format("web%03d", i)),
            List.of(HostPattern.of("web" + i + ".example.org")),
            List.of(PathPrefix.of("/api")))
        .withBackends(List.of(Backend.of("10.0.0." + (i % 250 + 1), 8080)));
  }

  private static Status status(int services, List<Problem> problems, List<String> warnings) {
    List<HttpService> http = new ArrayList<>();
    for (int i = 0; i < services; i++) {
      http.add(web(i));
    }
    Status s = new Status();
    s.watching(NOW.minusSeconds(600), 41);
    s.applied(
        NOW.minusSeconds(5),
        new ProxyConfig(42, http, List.of()),
        problems,
        warnings,
        new ApplyResult(ApplyResult.Outcome.RELOADED, 42, List.of(), "reloaded with 1 service"),
        Duration.ofMillis(37),
        0);
    return s;
  }

  private static io.haproxyconfd.ports.RouteExplanation noExplain(
      ProxyConfig config, String host, String path) {
    throw new AssertionError("no request to explain was asked for");
  }

  private String render(Status s, String query) {
    return StatusPage.render(
        "edge",
        "/haproxy-edge/",
        s.view(),
        StatusPage.Query.parse(query),
        keys -> {
          asked.add(List.copyOf(keys));
          return Map.of(
              "services/web000",
              List.of(
                  new ServerHealth("s1", "10.0.0.1", 8080, "UP", Duration.ofSeconds(30)),
                  new ServerHealth("s2", "10.0.0.9", 8080, "DOWN", Duration.ofSeconds(3))));
        },
        StatusPageTest::noExplain,
        NOW);
  }

  @Test
  void a_hostile_value_key_or_warning_is_shown_as_text_never_as_markup() {
    String page =
        render(
            status(
                1,
                List.of(Problem.leftOut("services/" + HOSTILE, HOSTILE, "bad " + HOSTILE)),
                List.of("warned " + HOSTILE)),
            "q=" + java.net.URLEncoder.encode(HOSTILE, java.nio.charset.StandardCharsets.UTF_8));
    assertFalse(page.contains("<script"), page);
    assertFalse(page.contains("<img"), page);
    assertFalse(page.contains("'pwned'"), page);
    // Shown, escaped: in the problem's key, value and reason, the warning, the filter box and the
    // line that says what was filtered.
    int shown =
        page.split(Pattern.quote("&lt;script&gt;document.title=&#39;pwned&#39;"), -1).length - 1;
    assertEquals(6, shown, page);
  }

  @Test
  void every_text_from_the_store_or_haproxy_is_escaped_wherever_the_page_shows_it() {
    // A regex may hold < > / = and dots: a hostile one can be a served service's route.
    String regex = "<script>document.title=/pwned/.source</script>";
    HttpService served =
        HttpService.of(
                ServiceName.of("evil"),
                List.of(HostPattern.of("evil.example.org")),
                List.of(io.haproxyconfd.domain.PathRegex.of(regex)))
            .withBackends(List.of(Backend.of("10.0.0.1", 80)));
    Status s = new Status();
    s.watching(NOW.minusSeconds(60), 1);
    s.applied(
        NOW.minusSeconds(5),
        new ProxyConfig(2, List.of(served), List.of()),
        List.of(Problem.leftOut("services/" + HOSTILE, HOSTILE, HOSTILE)),
        List.of(HOSTILE),
        new ApplyResult(ApplyResult.Outcome.RELOADED, 2, List.of(), "detail " + HOSTILE),
        Duration.ofMillis(1),
        0);
    s.storeFailed(NOW, "store " + HOSTILE); // the store's error, and the last error
    String page =
        StatusPage.render(
            "edge",
            "/haproxy-edge/",
            s.view(),
            StatusPage.Query.parse(
                "q=evil&host="
                    + java.net.URLEncoder.encode(HOSTILE, java.nio.charset.StandardCharsets.UTF_8)
                    + "&path=/"
                    + java.net.URLEncoder.encode(HOSTILE, java.nio.charset.StandardCharsets.UTF_8)),
            keys -> {
              throw new java.io.IOException("haproxy " + HOSTILE);
            },
            (config, host, path) ->
                new io.haproxyconfd.ports.RouteExplanation(
                    host,
                    path,
                    java.util.Optional.of("services/" + HOSTILE),
                    List.of(
                        new io.haproxyconfd.ports.RouteExplanation.Match(
                            HOSTILE, HOSTILE, "services/" + HOSTILE, true))),
            NOW);
    assertFalse(page.contains("<script"), page);
    assertFalse(page.contains("<img"), page);
    // Each of them is there, as text: the route, the store's error and last error, the detail,
    // HAProxy's error, the explained host and path, rule and service.
    assertTrue(page.contains("path matches <code>&lt;script&gt;document.title=/pwned/"), page);
    assertTrue(page.contains("unreachable</span>: store &lt;script&gt;"), page);
    assertTrue(page.contains("last error: <span class=\"bad\">store &lt;script&gt;"), page);
    assertTrue(page.contains("<td>detail &lt;script&gt;"), page);
    assertTrue(page.contains("asked about its servers: haproxy &lt;script&gt;"), page);
    assertTrue(page.contains("answered by <b>services/&lt;script&gt;"), page);
  }

  @Test
  void a_query_that_is_not_valid_percent_encoding_is_taken_as_it_is() {
    assertEquals("%zz", StatusPage.Query.parse("q=%zz").filter());
  }

  @Test
  void the_page_allows_no_script_and_refreshes_itself_unless_asked_not_to() {
    assertTrue(StatusPage.HEADERS.get("Content-Security-Policy").startsWith("default-src 'none'"));
    assertFalse(StatusPage.HEADERS.get("Content-Security-Policy").contains("script-src"));
    assertTrue(render(status(1, List.of(), List.of()), "").contains("http-equiv=\"refresh\""));
    assertFalse(render(status(1, List.of(), List.of()), "refresh=0").contains("http-equiv"));
  }

  @Test
  void servers_are_shown_as_haproxy_holds_them_and_only_the_shown_services_are_asked_about() {
    String page = render(status(120, List.of(), List.of()), "");
    assertTrue(page.contains("UP</span> <code>10.0.0.1:8080</code> for 30 s"), page);
    assertTrue(page.contains("DOWN</span> <code>10.0.0.9:8080</code> for 3 s"), page);
    assertEquals(1, asked.size());
    assertEquals(StatusPage.PAGE, asked.get(0).size());
    assertTrue(page.contains("1&ndash;50 of 120"), page);
    assertTrue(page.contains("href=\"/?page=2\""), page);
  }

  @Test
  void pages_and_filters_cut_the_list_and_the_questions_to_haproxy() {
    String third = render(status(120, List.of(), List.of()), "page=3");
    assertTrue(third.contains("101&ndash;120 of 120"), third);
    assertEquals(20, asked.get(0).size());
    assertTrue(asked.get(0).contains("services/web119"));
    asked.clear();
    String filtered = render(status(120, List.of(), List.of()), "q=WEB11");
    assertTrue(filtered.contains("1&ndash;11 of 11"), filtered);
    assertEquals(
        List.of(
            "services/web011",
            "services/web110",
            "services/web111",
            "services/web112",
            "services/web113",
            "services/web114",
            "services/web115",
            "services/web116",
            "services/web117",
            "services/web118",
            "services/web119"),
        asked.get(0));
  }

  @Test
  void the_store_and_the_last_applies_are_shown() {
    Status s = status(1, List.of(), List.of());
    s.storeFailed(NOW.minusSeconds(1), "etcd unavailable: connection refused");
    String page = render(s, "");
    assertTrue(page.contains("unreachable</span>: etcd unavailable: connection refused"), page);
    assertTrue(
        page.contains("watching since 2026-12-07T09:50:00Z (10 min ago), from revision 41"), page);
    Matcher apply =
        Pattern.compile(
                "<td>2026-12-07T09:59:55Z \\(5 s ago\\)</td><td>42</td><td class=\"ok\">reloaded</td><td>37 ms</td>")
            .matcher(page);
    assertTrue(apply.find(), page);
  }

  @Test
  void a_request_to_explain_is_shown_with_its_rules_in_order_and_a_hostile_host_as_text() {
    String page =
        StatusPage.render(
            "edge",
            "/haproxy-edge/",
            status(1, List.of(), List.of()).view(),
            StatusPage.Query.parse(
                "host="
                    + java.net.URLEncoder.encode(HOSTILE, java.nio.charset.StandardCharsets.UTF_8)
                    + "&path=/api"),
            keys -> Map.of(),
            (config, host, path) ->
                new io.haproxyconfd.ports.RouteExplanation(
                    host,
                    path,
                    java.util.Optional.of("services/web001"),
                    List.of(
                        new io.haproxyconfd.ports.RouteExplanation.Match(
                            "exact host", "web1.example.org", "services/web001", true),
                        new io.haproxyconfd.ports.RouteExplanation.Match(
                            "path prefix", "/api", "services/web000", false))),
            NOW);
    assertFalse(page.contains("<script"), page);
    assertTrue(page.contains("answered by <b>services/web001</b>"), page);
    assertTrue(
        page.indexOf("<code>web1.example.org</code></td><td>exact host</td>")
            < page.indexOf("<code>/api</code></td><td>path prefix</td>"),
        page);
    assertTrue(page.contains("class=\"warn\">shadowed"), page);
  }

  @Test
  void haproxy_that_cannot_be_asked_is_said_so_and_the_rest_is_shown() {
    String page =
        StatusPage.render(
            "edge",
            "/haproxy-edge/",
            status(2, List.of(), List.of()).view(),
            StatusPage.Query.parse(""),
            keys -> {
              throw new java.io.IOException("connection refused");
            },
            StatusPageTest::noExplain,
            NOW);
    assertTrue(
        page.contains("HAProxy could not be asked about its servers: connection refused"), page);
    assertTrue(page.contains("web001"), page);
  }
}
