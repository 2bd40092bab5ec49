package io.haproxyconfd.adapters.haproxy;

import com.sun.net.httpserver.HttpServer;
import io.haproxyconfd.domain.Backend;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Executors;

/**
 * A small HTTP server on a free loopback port that answers every request with its own name, the
 * path it received and the forwarding headers: enough to see where HAProxy sent a request.
 */
public final class EchoBackend implements AutoCloseable {
  static {
    // The JDK server leaves Nagle's algorithm on: a response written in two parts then waits for
    // a delayed ACK, which puts milliseconds of the backend's own into every latency measured.
    System.setProperty("sun.net.httpserver.nodelay", "true");
  }

  private final HttpServer server;
  private final String name;

  public EchoBackend(String name) throws IOException {
    this(name, InetAddress.getLoopbackAddress(), 0);
  }

  /** On a given loopback address and port (0: any free port). */
  public EchoBackend(String name, InetAddress address, int port) throws IOException {
    this.name = name;
    server = HttpServer.create(new InetSocketAddress(address, port), 64);
    server.setExecutor(Executors.newFixedThreadPool(4));
    server.createContext(
        "/",
        exchange -> {
          String body =
              "backend="
                  + name
                  + " path="
                  + exchange.getRequestURI().getRawPath()
                  + " xff="
                  + exchange.getRequestHeaders().getFirst("X-Forwarded-For")
                  + " proto="
                  + exchange.getRequestHeaders().getFirst("X-Forwarded-Proto")
                  + " query="
                  + java.util.Objects.toString(exchange.getRequestURI().getRawQuery(), "")
                  + "\n";
          byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
          exchange.sendResponseHeaders(200, bytes.length);
          exchange.getResponseBody().write(bytes);
          exchange.close();
        });
    server.start();
  }

  public String name() {
    return name;
  }

  public int port() {
    return server.getAddress().getPort();
  }

  public Backend backend() {
    return Backend.of(server.getAddress().getAddress().getHostAddress(), port());
  }

  @Override
  public void close() {
    server.stop(0);
    ((java.util.concurrent.ExecutorService) server.getExecutor()).shutdownNow();
  }
}
