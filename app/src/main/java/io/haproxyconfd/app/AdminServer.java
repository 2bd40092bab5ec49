package io.haproxyconfd.app;

import com.google.gson.GsonBuilder;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.haproxyconfd.ports.DaemonThreads;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/** /healthz, /readyz, /metrics (Prometheus text) and /status (JSON) on the admin address. */
final class AdminServer implements AutoCloseable {
  private final HttpServer server;
  private final ExecutorService executor =
      Executors.newFixedThreadPool(2, DaemonThreads.named("admin-http"));

  AdminServer(InetSocketAddress address, Status status) throws IOException {
    server = HttpServer.create(address, 16);
    server.setExecutor(executor);
    server.createContext("/healthz", ex -> send(ex, 200, "text/plain", "ok\n"));
    server.createContext(
        "/readyz",
        ex -> {
          boolean ready = status.ready();
          send(ex, ready ? 200 : 503, "text/plain", ready ? "ready\n" : "no config applied yet\n");
        });
    server.createContext(
        "/metrics", ex -> send(ex, 200, "text/plain; version=0.0.4", status.prometheus()));
    server.createContext(
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
                    + "\n"));
    server.start();
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
}
