package io.haproxyconfd.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.haproxyconfd.adapters.etcd.EtcdCluster;
import io.haproxyconfd.adapters.haproxy.EchoBackend;
import io.haproxyconfd.adapters.haproxy.RawHttp;
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
 * {@code explain} agrees with HAProxy: the README's routing examples as keys, each service behind a
 * backend that answers its own name, and for every request the service HAProxy's answer names is
 * the one {@code explain} names (or both say none answers).
 */
class ExplainIT {
  @RegisterExtension static EtcdCluster etcd = EtcdCluster.of(1);

  /** The README's examples: the seed README's, wildcards, case, and the order rules. */
  static final Map<String, Map<String, String>> SERVICES = new LinkedHashMap<>();

  static {
    SERVICES.put("myapp", Map.of("domain", "example.org"));
    SERVICES.put("myapi", Map.of("url_beg", "/api_A"));
    SERVICES.put("otherapi", Map.of("url_beg", "/api_B"));
    SERVICES.put("apiv2", Map.of("domain", "example.org", "url_beg", "/api_A/v2"));
    SERVICES.put("shop", Map.of("domain", "Shop.example.org"));
    SERVICES.put("wild", Map.of("domain", "*.example.org"));
    SERVICES.put("euwild", Map.of("domain", "*.eu.example.org"));
    SERVICES.put("json", Map.of("domain", "*.example.org", "url_reg", "\\.json$"));
    SERVICES.put("search", Map.of("url_reg", "^/search/[0-9]+"));
    SERVICES.put("docs", Map.of("domain", "docs.example.net", "url_beg", "/v1,/v2"));
    // Prefixes that overlap in one map: HAProxy takes the longest.
    SERVICES.put("docsbeta", Map.of("domain", "docs.example.net", "url_beg", "/v1/beta"));
    SERVICES.put("shopall", Map.of("url_beg", "/shop"));
    SERVICES.put("cart", Map.of("url_beg", "/shop/cart"));
    // The other shapes a rule takes in the maps.
    SERVICES.put("wildapi", Map.of("domain", "*.api.example.com", "url_beg", "/v3"));
    SERVICES.put("images", Map.of("domain", "img.example.com", "url_reg", "\\.png$"));
    SERVICES.put("items", Map.of("domain", "anch.example.com", "url_reg", "^/item/[0-9]+"));
    SERVICES.put("debug", Map.of("domain", "q.example.com", "url_reg", "[?&]debug=1"));
  }

  /** Host and path (with query) of each request; each kind of rule wins at least once. */
  static final List<String[]> REQUESTS =
      List.of(
          new String[] {"example.org", "/"},
          new String[] {"EXAMPLE.org:80", "/x"},
          new String[] {"example.org", "/api_A/x"},
          new String[] {"example.org", "/api_A/v2/users"},
          new String[] {"other.net", "/api_A/x"},
          new String[] {"other.net", "/api_B"},
          new String[] {"shop.example.org", "/"},
          new String[] {"a.example.org", "/"},
          new String[] {"x.eu.example.org", "/"},
          new String[] {"eu.example.org", "/"}, // a wildcard's own apex is not its subdomain
          new String[] {"a.example.org", "/data.json"},
          new String[] {"a.example.org", "/data.JSON"},
          new String[] {"shop.example.org", "/data.json"},
          new String[] {"other.net", "/search/12?q=1"},
          new String[] {"other.net", "/search/x"},
          new String[] {"example.org", "/search/1"},
          new String[] {"docs.example.net", "/v2/page"},
          new String[] {"docs.example.net", "/v3/page"},
          new String[] {"docs.example.net", "/v1/beta/x"},
          new String[] {"docs.example.net", "/v1/x"},
          new String[] {"other.net", "/shop/cart/1"},
          new String[] {"other.net", "/shop/x"},
          new String[] {"x.api.example.com", "/v3/q"},
          new String[] {"api.example.com", "/v3/q"},
          new String[] {"img.example.com", "/a/b.PNG"},
          new String[] {"img.example.com", "/a.png?x"},
          new String[] {"anch.example.com", "/item/42?x=1"},
          new String[] {"anch.example.com", "/x/item/42"},
          new String[] {"q.example.com", "/p?a=2&debug=1"},
          new String[] {"q.example.com", "/p?debug=2"},
          new String[] {"other.net", "/nothing"},
          new String[] {"example.org.evil.net", "/"});

  static final List<EchoBackend> backends = new ArrayList<>();

  @BeforeAll
  static void keys() throws Exception {
    for (var service : SERVICES.entrySet()) {
      EchoBackend b = new EchoBackend(service.getKey());
      backends.add(b);
      String folder = "/haproxy-explain/services/" + service.getKey() + "/";
      for (var key : service.getValue().entrySet()) {
        EtcdWrites.put(etcd.client(), folder + key.getKey(), key.getValue());
      }
      EtcdWrites.put(etcd.client(), folder + "w1", b.backend().toString());
    }
  }

  @AfterAll
  static void stop() {
    backends.forEach(EchoBackend::close);
  }

  @Test
  void explain_names_the_service_haproxy_sends_each_request_to() throws Exception {
    try (DaemonProcess d =
        DaemonProcess.start(
            Map.of(
                "HAPROXY_ID",
                "explain",
                "ETCD_NODE",
                etcd.endpoints(),
                "CONFD_RESOLVER",
                "keys"))) {
      d.awaitServed("example.org", "backend=myapp", Duration.ofSeconds(10));
      List<String> disagreements = new ArrayList<>();
      java.util.Set<String> answered = new java.util.TreeSet<>();
      for (String[] r : REQUESTS) {
        RawHttp.Response response = RawHttp.get(d.http, r[0], r[1]);
        String byHaproxy =
            response.status() == 503
                ? "none"
                : response.body().replaceFirst("^backend=([a-z0-9]+).*", "$1").strip();
        InProcessCli explain =
            InProcessCli.run(
                "explain",
                "--etcd-endpoints",
                etcd.endpoints(),
                "--haproxy-id",
                "explain",
                "--resolver",
                "keys",
                r[0],
                r[1]);
        String byExplain =
            explain.out().lines().findFirst().orElse("").contains("answered by services/")
                ? explain
                    .out()
                    .lines()
                    .findFirst()
                    .get()
                    .replaceFirst(".*answered by services/", "")
                : "none";
        assertEquals(byExplain.equals("none") ? 1 : 0, explain.status(), explain.out());
        if (!byHaproxy.equals(byExplain)) {
          disagreements.add(
              r[0]
                  + r[1]
                  + ": HAProxy "
                  + byHaproxy
                  + ", explain "
                  + byExplain
                  + "\n"
                  + explain.out());
        }
        answered.add(byHaproxy);
      }
      assertEquals(List.of(), disagreements);
      // Every service answered a request, and one went unanswered: each kind of rule was tried.
      java.util.Set<String> expected = new java.util.TreeSet<>(SERVICES.keySet());
      expected.add("none");
      assertEquals(expected, answered);
    }
  }
}
