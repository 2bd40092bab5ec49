package io.haproxyconfd.adapters.haproxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.haproxyconfd.domain.ProxyConfig;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** A renderer that keeps each backend's layout lays a config out as a fresh one does. */
class RendererTest {
  private static final String[] BEFORE = {
    "services/web/domain", "example.org",
    "services/web/w1", "10.0.0.1:80",
    "services/api/domain", "api.example.org",
    "services/api/url_beg", "/api",
    "services/api/w1", "10.0.0.2:80",
    "services/shop/domain", "shop.example.org",
    "services/shop/cookie", "",
    "services/shop/health_check_uri", "/health",
    "services/shop/w1", "10.0.0.3:80",
    "services/old/domain", "old.example.org",
    "services/old/w1", "10.0.0.4:80",
    "services/tuned/domain", "tuned.example.org",
    "services/tuned/custom_settings", "timeout server 5s",
    "services/tuned/w1", "10.0.0.5:80"
  };

  private static final String[] AFTER = {
    "services/web/domain", "example.org",
    "services/web/w1", "10.0.0.9:80", // a server moved
    "services/api/domain", "api.example.org",
    "services/api/url_beg", "/api",
    "services/api/balance", "leastconn", // a policy changed
    "services/api/w1", "10.0.0.2:80",
    "services/shop/domain", "shop.example.org",
    "services/shop/cookie", "",
    "services/shop/health_check_uri", "/health",
    "services/shop/w1", "10.0.0.3:80",
    "services/tuned/domain", "tuned.example.org",
    "services/tuned/custom_settings", "timeout server 5s",
    "services/tuned/w1", "10.0.0.5:80",
    "services/added/domain", "added.example.org", // old went, added came
    "services/added/w1", "10.0.0.6:80"
  };

  private static String render(Renderer renderer, ProxyConfig config) {
    return render(renderer, config, "0123456789abcdef");
  }

  private static String render(Renderer renderer, ProxyConfig config, String cookieKey) {
    return renderer.render(
        Plan.build(
            config,
            Slots.fresh(Plan.servers(config)),
            PlanTest.SETTINGS,
            cookieKey,
            1 << 20,
            Path.of("/state/gen/1")));
  }

  @Test
  void layouts_kept_from_the_last_render_give_what_a_fresh_render_gives() {
    Renderer kept = new Renderer(Optional.empty());
    ProxyConfig before = HaproxyFixture.config(BEFORE);
    ProxyConfig after = HaproxyFixture.config(AFTER);
    assertEquals(render(new Renderer(Optional.empty()), before), render(kept, before));
    String again = render(kept, after);
    // Only what changed is laid out again (web, api, added; not shop or tuned), and the next
    // renders of the same state lay out nothing.
    assertEquals(3, kept.lastLaidOut);
    assertEquals(again, render(kept, after));
    assertEquals(0, kept.lastLaidOut);
    assertEquals(again, render(kept, after));
    assertEquals(0, kept.lastLaidOut);
    assertEquals(render(new Renderer(Optional.empty()), after), again);
    assertTrue(again.contains("server s1 10.0.0.9:80"), again);
    assertTrue(!again.contains("backend http-old"), again);
    assertEquals(1, again.split("\nbackend http-added\n", -1).length - 1, again);
    // Other settings around the same backends: laid out again, not taken from before.
    String otherKey = render(new Renderer(Optional.empty()), after, "fedcba9876543210");
    String keptOtherKey = render(kept, after, "fedcba9876543210");
    assertEquals(otherKey, keptOtherKey);
    assertTrue(keptOtherKey.contains("dynamic-cookie-key fedcba9876543210"), keptOtherKey);
  }

  /**
   * The built-in frontend loads the map of prefixes taken off, by the path the configurator looks
   * for to tell whether an operator's template does; a {@code backend.ftl} of an operator's own
   * written when prefixes were backend rules ({@code b.rewrites}) still renders.
   */
  @Test
  void the_strip_map_is_loaded_and_an_old_backend_template_still_renders(
      @org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
    ProxyConfig config =
        HaproxyFixture.config("services/api/url_beg", "/api", "services/api/w1", "10.0.0.2:80");
    String builtIn = render(new Renderer(Optional.empty()), config);
    assertTrue(builtIn.contains("map_beg(/state/gen/1/maps/strip.map)"), builtIn);
    java.nio.file.Files.writeString(
        dir.resolve("backend.ftl"),
        "\nbackend ${b.name}\n<#list b.rewrites as r>\n  http-request replace-path '${r}' '/\\1'\n"
            + "</#list>\n<#list b.servers as s>\n  server ${s.name} ${s.address}:${s.port?c}\n"
            + "</#list>\n");
    String own = render(new Renderer(Optional.of(dir)), config);
    assertTrue(own.contains("backend http-api\n  server s1 10.0.0.2:80\n"), own);
  }

  /**
   * A first render lays out thousands of backends on all cores; it must give what laying them out a
   * few hundred at a time gives (one core), in the same order.
   */
  @Test
  void thousands_of_backends_laid_out_in_parallel_come_out_as_one_by_one() {
    java.util.List<String> keys = new java.util.ArrayList<>();
    for (int i = 0; i < 1_500; i++) {
      String s = "services/s" + i + "/";
      keys.addAll(java.util.List.of(s + "domain", "s" + i + ".example.org"));
      keys.addAll(java.util.List.of(s + "w1", "10.0." + (i / 250) + "." + (i % 250) + ":80"));
      if (i % 3 == 0) {
        keys.addAll(java.util.List.of(s + "url_beg", "/p" + i));
      }
      if (i % 5 == 0) {
        keys.addAll(java.util.List.of(s + "cookie", ""));
      }
    }
    ProxyConfig all = HaproxyFixture.config(keys.toArray(String[]::new));
    Renderer stepwise = new Renderer(Optional.empty());
    for (int n = 300; n < all.http().size(); n += 300) {
      render(stepwise, new ProxyConfig(1, all.http().subList(0, n), java.util.List.of()));
    }
    Renderer fresh = new Renderer(Optional.empty());
    String parallel = render(fresh, all);
    assertTrue(fresh.lastInParallel);
    assertEquals(render(stepwise, all), parallel);
    assertTrue(!stepwise.lastInParallel);
    assertEquals(1_500, parallel.split("\nbackend http-s", -1).length - 1);
  }
}
