package io.haproxyconfd.adapters.haproxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.haproxyconfd.ports.ApplyResult.Outcome;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Every routing rule, shown by real requests through a real HAProxy. */
class RoutingIT {
  @RegisterExtension static HaproxyFixture haproxy = new HaproxyFixture();
  static EchoBackend a;
  static EchoBackend b;
  static EchoBackend c;
  static EchoBackend d;

  @BeforeAll
  static void backends() throws Exception {
    a = new EchoBackend("a");
    b = new EchoBackend("b");
    c = new EchoBackend("c");
    d = new EchoBackend("d");
  }

  @AfterAll
  static void stopBackends() {
    for (EchoBackend e : new EchoBackend[] {a, b, c, d}) {
      e.close();
    }
  }

  private static String backendOf(String host, String path) throws Exception {
    RawHttp.Response r = RawHttp.get(haproxy.http(), host, path);
    return r.status() == 200
        ? r.body().split(" ")[0].substring("backend=".length())
        : Integer.toString(r.status());
  }

  private static String pathSeen(String host, String path) throws Exception {
    return RawHttp.get(haproxy.http(), host, path).body().split(" ")[1].substring("path=".length());
  }

  @Test
  void routes_by_host_ignoring_case_and_port_with_wildcards_and_prefixes() throws Exception {
    var result =
        haproxy.apply(
            "services/web/domain", "example.org,www.example.org",
            "services/web/w1", a.backend().toString(),
            "services/wild/domain", "*.example.org",
            "services/wild/w1", b.backend().toString(),
            "services/api/domain", "example.org",
            "services/api/url_beg", "/api_A",
            "services/api/w1", c.backend().toString(),
            "services/kept/domain", "example.org",
            "services/kept/url_beg", "/keep",
            "services/kept/keep_path", "true",
            "services/kept/w1", c.backend().toString(),
            "services/reg/url_reg", "^/v[0-9]+/items$",
            "services/reg/w1", d.backend().toString());
    assertEquals(Outcome.RELOADED, result.outcome(), result.toString());

    assertEquals("a", backendOf("example.org", "/"));
    assertEquals("a", backendOf("EXAMPLE.org:8080", "/x"));
    assertEquals("a", backendOf("www.example.org", "/"));
    assertEquals("b", backendOf("shop.example.org", "/"));
    assertEquals("b", backendOf("a.b.example.org", "/"));
    assertEquals("503", backendOf("example.net", "/"), "no route: the 503 page");

    assertEquals("c", backendOf("example.org", "/api_A/users"));
    assertEquals("/users", pathSeen("example.org", "/api_A/users"), "prefix stripped");
    assertEquals("/", pathSeen("example.org", "/api_A"));
    assertEquals("/keep/x", pathSeen("example.org", "/keep/x"), "keep_path keeps it");
    assertEquals("b", backendOf("shop.example.org", "/api_A/users"), "host+path needs both");

    assertEquals("d", backendOf("any.host", "/v2/items"));
    assertEquals("503", backendOf("any.host", "/v2/items/x"));
  }

  @Test
  void url_reg_ignores_case_and_sees_the_query_string_as_the_kontena_fork_matched_it()
      throws Exception {
    haproxy.apply(
        "services/search/url_reg", "^/search\\?q=",
        "services/search/w1", a.backend().toString(),
        "services/docs/domain", "example.org",
        "services/docs/url_reg", "^/Docs/",
        "services/docs/w1", b.backend().toString(),
        "services/shop/domain", "shop.example.org",
        "services/shop/url_beg", "/Cart",
        "services/shop/w1", c.backend().toString());
    assertEquals("a", backendOf("any.host", "/search?q=x"), "the query string is matched");
    assertEquals("a", backendOf("any.host", "/SEARCH?q=x"), "case is ignored");
    assertEquals("503", backendOf("any.host", "/search"));
    assertEquals("b", backendOf("example.org", "/docs/intro"), "host + url_reg ignores case");
    assertEquals("503", backendOf("other.org", "/docs/intro"), "but still needs the host");
    assertEquals("c", backendOf("shop.example.org", "/Cart/1"));
    assertEquals("503", backendOf("shop.example.org", "/cart/1"), "url_beg keeps its case");
  }

  @Test
  void more_specific_routes_win() throws Exception {
    haproxy.apply(
        "services/host/domain", "example.org",
        "services/host/w1", a.backend().toString(),
        "services/hostpath/domain", "example.org",
        "services/hostpath/url_beg", "/api",
        "services/hostpath/w1", b.backend().toString(),
        "services/longer/domain", "example.org",
        "services/longer/url_beg", "/api/v2",
        "services/longer/w1", c.backend().toString(),
        "services/path/url_beg", "/api",
        "services/path/w1", d.backend().toString());
    assertEquals("c", backendOf("example.org", "/api/v2/x"), "longest prefix first");
    assertEquals("b", backendOf("example.org", "/api/v1"), "host and path before host");
    assertEquals("a", backendOf("example.org", "/other"), "host before path");
    assertEquals("d", backendOf("other.org", "/api/x"), "path alone for other hosts");
  }

  @Test
  void a_service_without_a_live_backend_answers_a_clear_503() throws Exception {
    haproxy.apply("services/empty/domain", "empty.example.org");
    RawHttp.Response r = RawHttp.get(haproxy.http(), "empty.example.org", "/");
    assertEquals(503, r.status());
    assertTrue(r.body().contains("no server of this service"), r.body());
    RawHttp.Response none = RawHttp.get(haproxy.http(), "nothing.example.org", "/");
    assertTrue(none.body().contains("no service answers this host"), none.body());
  }

  @Test
  void forwarding_headers_are_set() throws Exception {
    haproxy.apply("services/web/domain", "example.org", "services/web/w1", a.backend().toString());
    String body = RawHttp.get(haproxy.http(), "example.org", "/").body();
    assertTrue(body.contains("xff=127.0.0.1"), body);
    assertTrue(body.contains("proto=http"), body);
  }
}
