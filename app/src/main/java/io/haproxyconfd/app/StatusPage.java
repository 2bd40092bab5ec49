package io.haproxyconfd.app;

import io.haproxyconfd.domain.HostPattern;
import io.haproxyconfd.domain.HttpService;
import io.haproxyconfd.domain.PathRegex;
import io.haproxyconfd.domain.PathRule;
import io.haproxyconfd.domain.Problem;
import io.haproxyconfd.domain.ProxyConfig;
import io.haproxyconfd.domain.TcpService;
import io.haproxyconfd.ports.RouteExplanation;
import io.haproxyconfd.ports.ServerHealth;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;

/**
 * The operator's page on the admin address: the store, the last applies, the problems, and each
 * service with its routes, its keys and its servers as HAProxy holds them.
 *
 * <p>Built on the server as plain HTML: no script runs on it (its Content-Security-Policy allows
 * none), it refreshes itself with a meta refresh, and every text from the store goes through {@link
 * #esc}. At 10,000 services it shows one page of {@link #PAGE} services at a time, filtered by
 * name, host or path, and asks HAProxy about those only.
 */
final class StatusPage {
  static final int PAGE = 50;

  /** The headers the page is served with: nothing it holds can run or load anything. */
  static final Map<String, String> HEADERS =
      Map.of(
          "Content-Security-Policy",
          "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none';"
              + " frame-ancestors 'none'",
          "X-Content-Type-Options",
          "nosniff",
          "Referrer-Policy",
          "no-referrer",
          "Cache-Control",
          "no-store");

  /**
   * What the request asked for: a filter, a page (from 1), whether to refresh, and a request to
   * explain (a host, and a path that is "/" if not given).
   */
  record Query(String filter, int page, boolean refresh, String host, String path) {
    static Query parse(String rawQuery) {
      String filter = "";
      int page = 1;
      boolean refresh = true;
      String host = "";
      String path = "/";
      if (rawQuery != null) {
        for (String pair : rawQuery.split("&")) {
          int eq = pair.indexOf('=');
          String name = eq < 0 ? pair : pair.substring(0, eq);
          String value = eq < 0 ? "" : decode(pair.substring(eq + 1));
          switch (name) {
            case "q" -> filter = value.strip();
            case "page" -> {
              try {
                page = Math.max(1, Integer.parseInt(value));
              } catch (NumberFormatException e) {
                page = 1;
              }
            }
            case "refresh" -> refresh = !value.equals("0");
            case "host" -> host = value.strip();
            case "path" ->
                path = value.strip().startsWith("/") ? value.strip() : "/" + value.strip();
            default -> {}
          }
        }
      }
      return new Query(filter, page, refresh, host, path);
    }

    /** A query value; one that is not valid percent-encoding is taken as it is. */
    private static String decode(String raw) {
      try {
        return java.net.URLDecoder.decode(raw, java.nio.charset.StandardCharsets.UTF_8);
      } catch (IllegalArgumentException e) {
        return raw;
      }
    }
  }

  /** Which service of a config answers a request, as the proxy would route it. */
  interface Explain {
    RouteExplanation of(ProxyConfig config, String host, String path);
  }

  /** HAProxy's answer for the shown services, or why it could not be asked. */
  interface Health {
    Map<String, List<ServerHealth>> of(Collection<String> serviceKeys) throws Exception;
  }

  private StatusPage() {}

  static String render(
      String proxy,
      String keyPrefix,
      Status.View view,
      Query query,
      Health health,
      Explain explain,
      Instant now) {
    StringBuilder h = new StringBuilder(16 * 1024);
    h.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n");
    h.append("<title>haproxy-confd ").append(esc(proxy)).append("</title>\n");
    if (query.refresh()) {
      h.append("<meta http-equiv=\"refresh\" content=\"5\">\n");
    }
    h.append(STYLE).append("</head><body>\n");
    h.append("<h1>haproxy-confd <span class=\"id\">")
        .append(esc(proxy))
        .append("</span> ")
        .append(
            view.ready()
                ? "<span class=\"ok\">ready</span>"
                : "<span class=\"bad\">not ready</span>")
        .append("</h1>\n");
    explain(h, view, query, explain);
    store(h, keyPrefix, view, now);
    problems(h, view);
    applies(h, view, now);
    services(h, keyPrefix, view, query, health);
    h.append("<p class=\"foot\">")
        .append(time(now))
        .append(query.refresh() ? " &middot; refreshes every 5 s" : "")
        .append(" &middot; <a href=\"/status\">/status</a> (JSON) &middot; <a href=\"/metrics\">")
        .append("/metrics</a></p>\n</body></html>\n");
    return h.toString();
  }

  private static void explain(StringBuilder h, Status.View view, Query query, Explain explain) {
    h.append("<section><h2>Which service answers?</h2>\n")
        .append("<form method=\"get\" action=\"/\">host <input name=\"host\" value=\"")
        .append(esc(query.host()))
        .append("\" placeholder=\"www.example.org\"> path <input name=\"path\" value=\"")
        .append(esc(query.path()))
        .append("\"> <input type=\"hidden\" name=\"refresh\" value=\"0\"><button>explain</button>")
        .append("</form>\n");
    if (!query.host().isEmpty()) {
      RouteExplanation e = explain.of(view.config(), query.host(), query.path());
      if (e != null) {
        h.append("<p><code>")
            .append(esc(e.host()))
            .append("</code> <code>")
            .append(esc(e.path()))
            .append("</code>: ")
            .append(
                e.service()
                    .map(s -> "answered by <b>" + esc(s) + "</b>")
                    .orElse("<span class=\"bad\">no service answers (503)</span>"))
            .append("</p>\n");
        if (!e.matches().isEmpty()) {
          h.append("<table><tr><th>#</th><th>rule, in the order HAProxy tries them</th>")
              .append("<th>kind</th><th>service</th><th></th></tr>\n");
          int n = 1;
          for (RouteExplanation.Match m : e.matches()) {
            h.append("<tr><td>")
                .append(n++)
                .append("</td><td><code>")
                .append(esc(m.rule()))
                .append("</code></td><td>")
                .append(esc(m.kind()))
                .append("</td><td>")
                .append(esc(m.service()))
                .append("</td><td class=\"")
                .append(m.answers() ? "ok\">answers" : "warn\">shadowed")
                .append("</td></tr>\n");
          }
          h.append("</table>\n");
        }
      }
    }
    h.append("</section>\n");
  }

  private static void store(StringBuilder h, String keyPrefix, Status.View view, Instant now) {
    Status.Store store = view.store();
    h.append("<section><h2>Store</h2><p>");
    h.append(
        store.reachable()
            ? "<span class=\"ok\">reachable</span>"
            : "<span class=\"bad\">unreachable</span>: " + esc(store.error()));
    h.append(" &middot; keys under <code>").append(esc(keyPrefix)).append("</code>");
    if (store.watchingSince() != null) {
      h.append(" &middot; watching since ")
          .append(time(store.watchingSince()))
          .append(" (")
          .append(ago(Duration.between(store.watchingSince(), now)))
          .append(" ago), from revision ")
          .append(store.watchedFrom());
    } else {
      h.append(" &middot; not watching yet");
    }
    h.append(" &middot; serving revision ").append(view.config().revision());
    if (!view.lastError().isEmpty()) {
      h.append("<br>last error: <span class=\"bad\">")
          .append(esc(view.lastError()))
          .append("</span>");
    }
    h.append("</p></section>\n");
  }

  private static void problems(StringBuilder h, Status.View view) {
    h.append("<section><h2>Problems (")
        .append(view.problems().size() + view.warnings().size())
        .append(")</h2>\n");
    if (view.problems().isEmpty() && view.warnings().isEmpty()) {
      h.append("<p class=\"ok\">none</p></section>\n");
      return;
    }
    h.append("<table><tr><th>key</th><th>value</th><th>reason</th><th>effect</th></tr>\n");
    for (Problem p : view.problems()) {
      h.append("<tr><td><code>")
          .append(esc(p.key()))
          .append("</code></td><td><code>")
          .append(esc(p.value()))
          .append("</code></td><td>")
          .append(esc(p.reason()))
          .append("</td><td class=\"")
          .append(p.effect() == Problem.Effect.WARNING ? "warn" : "bad")
          .append("\">")
          .append(esc(p.effect().name().toLowerCase(Locale.ROOT).replace('_', ' ')))
          .append("</td></tr>\n");
    }
    for (String w : view.warnings()) {
      h.append("<tr><td colspan=\"3\">")
          .append(esc(w))
          .append("</td><td class=\"warn\">warning</td></tr>\n");
    }
    h.append("</table></section>\n");
  }

  private static void applies(StringBuilder h, Status.View view, Instant now) {
    h.append("<section><h2>Last applies</h2>\n");
    if (view.applies().isEmpty()) {
      h.append("<p>none yet</p></section>\n");
      return;
    }
    h.append("<table><tr><th>when</th><th>revision</th><th>outcome</th><th>took</th>")
        .append("<th>detail</th></tr>\n");
    for (Status.Apply a : view.applies()) {
      h.append("<tr><td>")
          .append(time(a.at()))
          .append(" (")
          .append(ago(Duration.between(a.at(), now)))
          .append(" ago)</td><td>")
          .append(a.revision())
          .append("</td><td class=\"")
          .append(a.outcome().equals("rejected") ? "bad" : "ok")
          .append("\">")
          .append(esc(a.outcome()))
          .append("</td><td>")
          .append(a.millis())
          .append(" ms</td><td>")
          .append(esc(a.detail()))
          .append("</td></tr>\n");
    }
    h.append("</table></section>\n");
  }

  private static void services(
      StringBuilder h, String keyPrefix, Status.View view, Query query, Health health) {
    String f = query.filter().toLowerCase(Locale.ROOT);
    List<HttpService> http =
        view.config().http().stream().filter(s -> f.isEmpty() || matches(s, f)).toList();
    List<TcpService> tcp =
        view.config().tcp().stream()
            .filter(s -> f.isEmpty() || s.name().value().toLowerCase(Locale.ROOT).contains(f))
            .toList();
    int total = http.size() + tcp.size();
    int pages = Math.max(1, (total + PAGE - 1) / PAGE);
    int page = Math.min(query.page(), pages);
    int from = (page - 1) * PAGE;
    int to = Math.min(total, from + PAGE);
    List<HttpService> shownHttp =
        http.subList(Math.min(from, http.size()), Math.min(to, http.size()));
    List<TcpService> shownTcp =
        tcp.subList(
            Math.min(Math.max(0, from - http.size()), tcp.size()),
            Math.min(Math.max(0, to - http.size()), tcp.size()));

    h.append("<section><h2>Services (")
        .append(view.config().http().size())
        .append(" HTTP, ")
        .append(view.config().tcp().size())
        .append(" TCP)</h2>\n");
    h.append("<form method=\"get\" action=\"/\"><input name=\"q\" value=\"")
        .append(esc(query.filter()))
        .append("\" placeholder=\"name, host or path\"> <button>filter</button>")
        .append(query.refresh() ? "" : "<input type=\"hidden\" name=\"refresh\" value=\"0\">")
        .append("</form>\n<p>")
        .append(total == 0 ? "no service" : (from + 1) + "&ndash;" + to + " of " + total)
        .append(f.isEmpty() ? "" : " matching <code>" + esc(query.filter()) + "</code>");
    if (page > 1) {
      h.append(" &middot; <a href=\"").append(link(query, page - 1)).append("\">previous</a>");
    }
    if (page < pages) {
      h.append(" &middot; <a href=\"").append(link(query, page + 1)).append("\">next</a>");
    }
    h.append("</p>\n");

    List<String> keys = new ArrayList<>();
    shownHttp.forEach(s -> keys.add("services/" + s.name().value()));
    shownTcp.forEach(s -> keys.add("tcp-services/" + s.name().value()));
    Map<String, List<ServerHealth>> servers = Map.of();
    String healthError = null;
    if (!keys.isEmpty()) {
      try {
        servers = health.of(keys);
      } catch (Exception e) {
        healthError = String.valueOf(e.getMessage());
      }
    }
    if (healthError != null) {
      h.append("<p class=\"bad\">HAProxy could not be asked about its servers: ")
          .append(esc(healthError))
          .append("</p>\n");
    }
    if (!shownHttp.isEmpty()) {
      h.append("<table><tr><th>HTTP service</th><th>routes</th><th>keys</th>")
          .append("<th>servers, as HAProxy holds them</th></tr>\n");
      for (HttpService s : shownHttp) {
        String key = "services/" + s.name().value();
        h.append("<tr><td><b>").append(esc(s.name().value())).append("</b></td><td>");
        routes(h, s);
        h.append("</td><td><code>").append(esc(keyPrefix + key + "/")).append("</code></td><td>");
        serversCell(h, servers.get(key), healthError == null);
        h.append("</td></tr>\n");
      }
      h.append("</table>\n");
    }
    if (!shownTcp.isEmpty()) {
      h.append("<table><tr><th>TCP service</th><th>port</th><th>keys</th>")
          .append("<th>servers, as HAProxy holds them</th></tr>\n");
      for (TcpService s : shownTcp) {
        String key = "tcp-services/" + s.name().value();
        h.append("<tr><td><b>")
            .append(esc(s.name().value()))
            .append("</b></td><td>")
            .append(s.externalPort().value())
            .append("</td><td><code>")
            .append(esc(keyPrefix + key + "/"))
            .append("</code></td><td>");
        serversCell(h, servers.get(key), healthError == null);
        h.append("</td></tr>\n");
      }
      h.append("</table>\n");
    }
    h.append("</section>\n");
  }

  private static boolean matches(HttpService s, String filter) {
    Function<String, Boolean> has = text -> text.toLowerCase(Locale.ROOT).contains(filter);
    return has.apply(s.name().value())
        || s.hosts().stream().anyMatch(host -> has.apply(host.value()))
        || s.paths().stream().anyMatch(p -> has.apply(p.value()));
  }

  private static void routes(StringBuilder h, HttpService s) {
    List<String> hosts = s.hosts().stream().map(HostPattern::value).toList();
    h.append(
        hosts.isEmpty() ? "<i>any host</i>" : "<code>" + esc(String.join(" ", hosts)) + "</code>");
    for (PathRule p : s.paths()) {
      h.append("<br>")
          .append(p instanceof PathRegex ? "path matches " : "path begins ")
          .append("<code>")
          .append(esc(p.value()))
          .append("</code>");
    }
  }

  private static void serversCell(StringBuilder h, List<ServerHealth> servers, boolean asked) {
    if (!asked) {
      h.append("?");
      return;
    }
    if (servers == null || servers.isEmpty()) {
      h.append("<span class=\"bad\">none</span>");
      return;
    }
    for (ServerHealth s : servers) {
      h.append("<span class=\"")
          .append(
              switch (s.state()) {
                case "UP" -> "ok";
                case "DOWN" -> "bad";
                default -> "warn";
              })
          .append("\">")
          .append(esc(s.state()))
          .append("</span> <code>")
          .append(esc(s.address()))
          .append(':')
          .append(s.port())
          .append("</code> for ")
          .append(ago(s.sinceChange()))
          .append(" <small>(")
          .append(esc(s.server()))
          .append(")</small><br>");
    }
  }

  private static String link(Query q, int page) {
    StringBuilder l = new StringBuilder("/?page=").append(page);
    if (!q.filter().isEmpty()) {
      l.append("&amp;q=")
          .append(
              esc(java.net.URLEncoder.encode(q.filter(), java.nio.charset.StandardCharsets.UTF_8)));
    }
    if (!q.refresh()) {
      l.append("&amp;refresh=0");
    }
    return l.toString();
  }

  /** An instant to the second, in UTC: 2026-12-07T10:50:59Z. */
  private static String time(Instant at) {
    return at.truncatedTo(java.time.temporal.ChronoUnit.SECONDS).toString();
  }

  static String ago(Duration d) {
    long s = Math.max(0, d.toSeconds());
    if (s < 120) {
      return s + " s";
    }
    if (s < 7200) {
      return s / 60 + " min";
    }
    if (s < 172800) {
      return s / 3600 + " h";
    }
    return s / 86400 + " d";
  }

  /** Text made safe to stand anywhere in the page: in an element or in a quoted attribute. */
  static String esc(String text) {
    StringBuilder out = new StringBuilder(text.length() + 16);
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      switch (c) {
        case '<' -> out.append("&lt;");
        case '>' -> out.append("&gt;");
        case '&' -> out.append("&amp;");
        case '"' -> out.append("&quot;");
        case '\'' -> out.append("&#39;");
        default -> out.append(c);
      }
    }
    return out.toString();
  }

  private static final String STYLE =
      """
      <style>
      body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}
      h1{font-size:1.4em} h2{font-size:1.1em;margin-top:1.4em}
      .id{font-family:monospace} .ok{color:#1a7f37} .bad{color:#c62828;font-weight:bold}
      .warn{color:#b26a00} code{background:#f3f3f3;padding:0 .2em;word-break:break-all}
      table{border-collapse:collapse;width:100%} th,td{border-bottom:1px solid #ddd;padding:.3em .5em;
      text-align:left;vertical-align:top} th{background:#fafafa} .foot{color:#777;margin-top:2em}
      </style>
      """;
}
