package io.haproxyconfd.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The admin address on loopback, with and without ADMIN_TOKEN. */
class AdminServerTest {
  private final HttpClient client = HttpClient.newHttpClient();

  private AdminServer server(Optional<String> token) throws Exception {
    return new AdminServer(
        new InetSocketAddress("127.0.0.1", 0),
        new Status(),
        new AdminServer.Page(
            "edge", "/haproxy-edge/", keys -> Map.of(), (config, host, path) -> null),
        token);
  }

  private HttpResponse<String> get(AdminServer s, String path, String authorization)
      throws Exception {
    HttpRequest.Builder r =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.port() + path));
    if (authorization != null) {
      r.header("Authorization", authorization);
    }
    return client.send(r.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static String basic(String user, String password) {
    return "Basic "
        + Base64.getEncoder()
            .encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void without_a_token_everything_answers() throws Exception {
    try (AdminServer s = server(Optional.empty())) {
      assertEquals(200, get(s, "/", null).statusCode());
      assertEquals(200, get(s, "/status", null).statusCode());
      assertEquals(200, get(s, "/metrics", null).statusCode());
      assertEquals(404, get(s, "/favicon.ico", null).statusCode());
    }
  }

  @Test
  void with_a_token_only_the_probes_answer_without_it() throws Exception {
    try (AdminServer s = server(Optional.of("s3cret"))) {
      assertEquals(200, get(s, "/healthz", null).statusCode());
      assertEquals(503, get(s, "/readyz", null).statusCode()); // answers: not ready, no 401
      for (String path : new String[] {"/", "/status", "/metrics", "/?q=x"}) {
        HttpResponse<String> refused = get(s, path, null);
        assertEquals(401, refused.statusCode(), path);
        assertTrue(refused.headers().firstValue("WWW-Authenticate").isPresent(), path);
        assertEquals(401, get(s, path, "Bearer wrong").statusCode(), path);
        assertEquals(401, get(s, path, "Bearer s3cre").statusCode(), path);
        assertEquals(401, get(s, path, basic("admin", "wrong")).statusCode(), path);
        assertEquals(401, get(s, path, "Basic %%%").statusCode(), path);
        assertEquals(200, get(s, path, "Bearer s3cret").statusCode(), path);
        assertEquals(200, get(s, path, basic("anyone", "s3cret")).statusCode(), path);
      }
    }
  }

  @Test
  void the_page_is_html_served_with_a_policy_that_runs_no_script() throws Exception {
    try (AdminServer s = server(Optional.empty())) {
      HttpResponse<String> page = get(s, "/", null);
      assertTrue(page.headers().firstValue("Content-Type").orElse("").startsWith("text/html"));
      assertEquals(
          StatusPage.HEADERS.get("Content-Security-Policy"),
          page.headers().firstValue("Content-Security-Policy").orElse(""));
      assertTrue(page.body().contains("<h1>haproxy-confd"), page.body());
    }
  }
}
