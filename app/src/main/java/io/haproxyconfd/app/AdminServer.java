package io.haproxyconfd.app;

import com.google.gson.GsonBuilder;
import com.sun.net.httpserver.Filter;
import com.sun.net.httpserver.HttpContext;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import io.haproxyconfd.ports.DaemonThreads;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Clock;
import java.util.Base64;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * The admin address: {@code /healthz}, {@code /readyz}, {@code /metrics} (Prometheus text), {@code
 * /status} (JSON) and the operator's page at {@code /}. With a token, everything but the two probes
 * asks for it: {@code Authorization: Bearer TOKEN}, or HTTP basic auth with the token as password
 * (what a browser can send).
 */
final class AdminServer implements AutoCloseable {
  static {
    // Headers and body leave in separate writes: without TCP_NODELAY the body waits for the
    // client's delayed ACK, 40 ms on Linux, on every answer (measured: bench/run scale page).
    System.setProperty("sun.net.httpserver.nodelay", "true");
  }

  private final HttpServer server;
  private final ExecutorService executor =
      Executors.newFixedThreadPool(2, DaemonThreads.named("admin-http"));

  /**
   * What the page shows beside {@link Status}: the proxy's name, its keys, HAProxy's answer, and
   * how a request would be routed.
   */
  record Page(
      String proxy, String keyPrefix, StatusPage.Health health, StatusPage.Explain explain) {}

  AdminServer(InetSocketAddress address, Status status, Page page, Optional<String> token)
      throws IOException {
    server = HttpServer.create(address, 16);
    server.setExecutor(executor);
    server.createContext("/healthz", ex -> send(ex, 200, "text/plain", "ok\n"));
    server.createContext(
        "/readyz",
        ex -> {
          boolean ready = status.ready();
          send(ex, ready ? 200 : 503, "text/plain", ready ? "ready\n" : "no config applied yet\n");
        });
    Filter guard = new TokenFilter(token);
    guarded(
        "/metrics", ex -> send(ex, 200, "text/plain; version=0.0.4", status.prometheus()), guard);
    guarded(
        "/status",
        ex ->
            send(
                ex,
                200,
                "application/json",
                new GsonBuilder()
                        .serializeNulls()
                        .setPrettyPrinting()
                        .create()
                        .toJson(status.snapshot())
                    + "\n"),
        guard);
    guarded(
        "/",
        ex -> {
          if (!ex.getRequestURI().getPath().equals("/")) {
            send(ex, 404, "text/plain", "not found\n");
            return;
          }
          StatusPage.HEADERS.forEach((k, v) -> ex.getResponseHeaders().set(k, v));
          send(
              ex,
              200,
              "text/html; charset=utf-8",
              StatusPage.render(
                  page.proxy(),
                  page.keyPrefix(),
                  status.view(),
                  StatusPage.Query.parse(ex.getRequestURI().getRawQuery()),
                  page.health(),
                  page.explain(),
                  Clock.systemUTC().instant()));
        },
        guard);
    server.start();
  }

  private void guarded(String path, HttpHandler handler, Filter guard) {
    HttpContext context = server.createContext(path, handler);
    context.getFilters().add(guard);
  }

  int port() {
    return server.getAddress().getPort();
  }

  private static void send(HttpExchange ex, int code, String type, String body) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().set("Content-Type", type);
    ex.sendResponseHeaders(code, bytes.length);
    ex.getResponseBody().write(bytes);
    ex.close();
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
  }

  /** Lets a request through when no token is set, or when it carries the token. */
  static final class TokenFilter extends Filter {
    private final Optional<byte[]> token;

    TokenFilter(Optional<String> token) {
      this.token = token.map(t -> t.getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public String description() {
      return "ADMIN_TOKEN";
    }

    @Override
    public void doFilter(HttpExchange ex, Chain chain) throws IOException {
      if (token.isEmpty() || carries(ex.getRequestHeaders().getFirst("Authorization"))) {
        chain.doFilter(ex);
        return;
      }
      ex.getRequestBody().close();
      ex.getResponseHeaders().set("WWW-Authenticate", "Basic realm=\"haproxy-confd\"");
      send(
          ex,
          401,
          "text/plain",
          "ADMIN_TOKEN is set: send it as 'Authorization: Bearer TOKEN',"
              + " or as the password of any user name\n");
    }

    /** Whether the header carries the token; compared in constant time. */
    boolean carries(String authorization) {
      if (authorization == null) {
        return false;
      }
      byte[] given = null;
      if (authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
        given = authorization.substring(7).strip().getBytes(StandardCharsets.UTF_8);
      } else if (authorization.regionMatches(true, 0, "Basic ", 0, 6)) {
        try {
          String pair =
              new String(
                  Base64.getDecoder().decode(authorization.substring(6).strip()),
                  StandardCharsets.UTF_8);
          int colon = pair.indexOf(':');
          given = colon < 0 ? null : pair.substring(colon + 1).getBytes(StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
          return false;
        }
      }
      return given != null && MessageDigest.isEqual(given, token.get());
    }
  }
}
