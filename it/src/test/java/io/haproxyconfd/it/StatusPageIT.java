package io.haproxyconfd.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.haproxyconfd.adapters.etcd.EtcdCluster;
import io.haproxyconfd.domain.Await;
import io.haproxyconfd.domain.FreePorts;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The operator's page on the admin address, through the daemon with HAProxy and etcd, and in a real
 * browser: Debian's headless Chromium.
 */
class StatusPageIT {
  @RegisterExtension static EtcdCluster etcd = EtcdCluster.of(1);
  @RegisterExtension static TwoBackends backends = new TwoBackends();

  /** A value that would retitle the page if the page ran it. */
  static final String HOSTILE = "<script>document.title='pwned'</script>";

  static final String REGEX = "<script>document.title=/pwned/.source</script>";

  static final Path SCREENSHOT = Path.of("target", "status-page.png");

  @Test
  void servers_are_shown_as_haproxy_holds_them_and_a_hostile_value_does_not_run_in_a_browser()
      throws Exception {
    String dead = "127.0.0.1:" + FreePorts.next(); // nothing listens there
    String live = backends.a.backend().toString();
    EtcdWrites.put(etcd.client(), "/haproxy-page/services/web/domain", "web.example.org");
    EtcdWrites.put(etcd.client(), "/haproxy-page/services/web/w1", live);
    EtcdWrites.put(etcd.client(), "/haproxy-page/services/web/w2", dead);
    EtcdWrites.put(etcd.client(), "/haproxy-page/services/api/domain", "api.example.org");
    EtcdWrites.put(etcd.client(), "/haproxy-page/services/api/url_beg", "/v1");
    EtcdWrites.put(etcd.client(), "/haproxy-page/services/api/a1", backends.b.backend().toString());
    EtcdWrites.put(etcd.client(), "/haproxy-page/services/evil/domain", "evil.example.org");
    EtcdWrites.put(
        etcd.client(), "/haproxy-page/services/evil/balance", "\"><img src=x>" + HOSTILE);
    // A regex may hold < > / = and dots: a served service's route, on the page and in explain.
    EtcdWrites.put(etcd.client(), "/haproxy-page/services/regex/domain", "regex.example.org");
    EtcdWrites.put(etcd.client(), "/haproxy-page/services/regex/url_reg", REGEX);
    EtcdWrites.put(etcd.client(), "/haproxy-page/services/regex/r1", live);
    try (DaemonProcess d =
        DaemonProcess.start(
            Map.of(
                "HAPROXY_ID", "page",
                "ETCD_NODE", etcd.endpoints(),
                "CONFD_RESOLVER", "keys",
                "CHECK_INTERVAL", "300ms"))) {
      d.awaitServed("web.example.org", "backend=a", Duration.ofSeconds(10));
      // What HAProxy holds, asked the page's way round: the dead server is DOWN there first.
      Await.until(
          Duration.ofSeconds(10),
          "HAProxy holds the dead server DOWN",
          () -> !HealthChecksIT.slot(d, "http-web", dead).up());
      String page = d.get("/?refresh=0").body();
      assertTrue(page.contains("DOWN</span> <code>" + dead + "</code>"), page);
      assertTrue(page.contains("UP</span> <code>" + live + "</code>"), page);
      assertTrue(
          page.contains("<code>api.example.org</code><br>path begins <code>/v1</code>"), page);
      assertTrue(page.contains("<code>/haproxy-page/services/web/</code>"), page);
      assertTrue(page.contains("<td><code>services/evil/balance</code></td>"), page);

      List<String> dom = chromium(d, "", "--dump-dom");
      String shown = String.join("\n", dom);
      assertTrue(shown.contains("<title>haproxy-confd page</title>"), shown);
      assertFalse(shown.contains("pwned</title>"), shown);
      // No element came from a value: the policy would stop a script, escaping must stop the tag.
      assertFalse(shown.contains("<script"), shown);
      assertFalse(shown.contains("<img"), shown);
      // The value is on the page, as text.
      assertTrue(shown.contains("&lt;script&gt;document.title='pwned'&lt;/script&gt;"), shown);
      // A request to explain comes in the address: a hostile one is shown as text too.
      String reflected =
          String.join(
              "\n",
              chromium(
                  d,
                  "&host="
                      + java.net.URLEncoder.encode(HOSTILE, java.nio.charset.StandardCharsets.UTF_8)
                      + "&path=/",
                  "--dump-dom"));
      assertTrue(reflected.contains("<title>haproxy-confd page</title>"), reflected);
      assertTrue(reflected.contains("no service answers (503)"), reflected);
      assertFalse(reflected.contains("<script"), reflected);
      // The served regex, explained: its rule is shown as text.
      String explained =
          String.join(
              "\n",
              chromium(
                  d,
                  "&host=regex.example.org&path="
                      + java.net.URLEncoder.encode(
                          "/" + REGEX, java.nio.charset.StandardCharsets.UTF_8),
                  "--dump-dom"));
      assertTrue(explained.contains("answered by <b>services/regex</b>"), explained);
      assertFalse(explained.contains("<script"), explained);
      Files.deleteIfExists(SCREENSHOT);
      chromium(
          d,
          "&host=api.example.org&path=/v1/users",
          "--screenshot=" + SCREENSHOT.toAbsolutePath(),
          "--window-size=1200,1150");
      assertTrue(Files.size(SCREENSHOT) > 10_000, "a screenshot of the page");
    }
  }

  @Test
  void with_admin_token_everything_but_the_probes_asks_for_it() throws Exception {
    String token = "page-token-" + FreePorts.next();
    EtcdWrites.put(etcd.client(), "/haproxy-token/services/web/domain", "web.example.org");
    EtcdWrites.put(
        etcd.client(), "/haproxy-token/services/web/w1", backends.a.backend().toString());
    try (DaemonProcess d =
        DaemonProcess.start(
            Map.of(
                "HAPROXY_ID",
                "token",
                "ETCD_NODE",
                etcd.endpoints(),
                "CONFD_RESOLVER",
                "keys",
                "ADMIN_TOKEN",
                token))) {
      HttpClient client = HttpClient.newHttpClient();
      assertEquals(200, get(client, d, "/healthz", null).statusCode());
      assertEquals(200, get(client, d, "/readyz", null).statusCode());
      for (String path : List.of("/", "/status", "/metrics")) {
        assertEquals(401, get(client, d, path, null).statusCode(), path);
        assertEquals(401, get(client, d, path, "Bearer not-" + token).statusCode(), path);
        assertEquals(200, get(client, d, path, "Bearer " + token).statusCode(), path);
      }
    }
  }

  private static HttpResponse<String> get(
      HttpClient client, DaemonProcess d, String path, String authorization) throws Exception {
    HttpRequest.Builder r =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + d.admin + path))
            .timeout(Duration.ofSeconds(5));
    if (authorization != null) {
      r.header("Authorization", authorization);
    }
    return client.send(r.build(), HttpResponse.BodyHandlers.ofString());
  }

  /** Headless Chromium on the page (no refresh), within a minute; its standard output. */
  static List<String> chromium(DaemonProcess d, String query, String... what) throws Exception {
    Path profile = Files.createTempDirectory("chromium-profile");
    List<String> command = new ArrayList<>();
    command.addAll(
        List.of(
            "chromium",
            "--headless",
            "--no-sandbox", // root in CI: Chromium's sandbox refuses to run as root
            "--disable-gpu",
            "--no-first-run",
            "--user-data-dir=" + profile));
    command.addAll(List.of(what));
    command.add("http://127.0.0.1:" + d.admin + "/?refresh=0" + query);
    Path out = profile.resolveSibling(profile.getFileName() + ".out");
    Path log = profile.resolveSibling(profile.getFileName() + ".log");
    Process p =
        new ProcessBuilder(command)
            .redirectOutput(out.toFile())
            .redirectError(log.toFile())
            .start();
    try {
      if (!p.waitFor(60, TimeUnit.SECONDS)) {
        throw new AssertionError("chromium still running after 60 s: " + command);
      }
      assertEquals(0, p.exitValue(), "chromium " + command + ": " + Files.readString(log));
      return Files.readAllLines(out);
    } finally {
      // Chromium's own processes (renderer, GPU, zygote) first: they outlive a killed parent.
      p.descendants().forEach(ProcessHandle::destroyForcibly);
      p.destroyForcibly();
      p.waitFor(10, TimeUnit.SECONDS);
      try (var files = Files.walk(profile)) {
        files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
      }
      Files.deleteIfExists(out);
      Files.deleteIfExists(log);
    }
  }
}
