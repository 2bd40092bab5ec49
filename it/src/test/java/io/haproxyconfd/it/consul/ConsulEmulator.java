package io.haproxyconfd.it.consul;

import com.google.gson.Gson;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * A Consul agent's HTTP API, as far as haproxy-confd uses it, faithful to the protocol: KV {@code
 * GET ?recurse}, {@code ?keys}, {@code PUT} (the body is the raw value; answers {@code true}),
 * {@code DELETE ?recurse}; blocking reads that wait until the index passes the given one or {@code
 * wait} runs out; {@code X-Consul-Index} on every answer, 404 included; base64 {@code Value};
 * {@code /v1/health/service/<name>?passing}; an ACL token when one is set. Data survives {@link
 * #restart()}.
 */
public final class ConsulEmulator implements AutoCloseable {
  static {
    // Without TCP_NODELAY every small answer waits ~40 ms for the peer's delayed ACK.
    System.setProperty("sun.net.httpserver.nodelay", "true");
  }

  private static final Gson GSON = new Gson();

  private record Kv(byte[] value, long createIndex, long modifyIndex) {}

  /** A registered service instance. */
  public record Instance(String id, String address, int port, boolean passing) {}

  private final Object lock = new Object();
  private final SortedMap<String, Kv> kv = new TreeMap<>();
  private final Map<String, List<Instance>> services = new HashMap<>();
  private long index = 1;
  private final Optional<String> token;
  private int port;
  private HttpServer server;
  private ExecutorService executor;

  private ConsulEmulator(Optional<String> token) {
    this.token = token;
  }

  public static ConsulEmulator start(Optional<String> token) throws IOException {
    ConsulEmulator e = new ConsulEmulator(token);
    e.listen(0);
    return e;
  }

  public String address() {
    return "127.0.0.1:" + port;
  }

  /** Stops answering, then answers again on the same port with the same data. */
  public void restart() throws IOException {
    stopServer();
    listen(port);
  }

  private void listen(int onPort) throws IOException {
    server =
        HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), onPort), 128);
    executor =
        Executors.newCachedThreadPool(
            r -> {
              Thread t = new Thread(r, "consul-emulator");
              t.setDaemon(true);
              return t;
            });
    server.setExecutor(executor);
    server.createContext("/v1/kv/", this::kv);
    server.createContext("/v1/health/service/", this::health);
    server.start();
    port = server.getAddress().getPort();
  }

  /** Registers (or replaces) an instance of a service in the catalog. */
  public void register(String service, Instance instance) {
    synchronized (lock) {
      List<Instance> list = services.computeIfAbsent(service, s -> new ArrayList<>());
      list.removeIf(i -> i.id().equals(instance.id()));
      list.add(instance);
      bump();
    }
  }

  public void deregister(String service, String id) {
    synchronized (lock) {
      services.getOrDefault(service, new ArrayList<>()).removeIf(i -> i.id().equals(id));
      bump();
    }
  }

  private void bump() {
    index++;
    lock.notifyAll();
  }

  private void kv(HttpExchange ex) throws IOException {
    try (ex) {
      Map<String, String> q = query(ex);
      if (!authorized(ex, q)) {
        return;
      }
      String key =
          URLDecoder.decode(
              ex.getRequestURI().getRawPath().substring("/v1/kv/".length()),
              StandardCharsets.UTF_8);
      switch (ex.getRequestMethod()) {
        case "PUT" -> {
          byte[] body = ex.getRequestBody().readAllBytes();
          synchronized (lock) {
            long next = index + 1;
            Kv old = kv.get(key);
            kv.put(key, new Kv(body, old == null ? next : old.createIndex(), next));
            bump();
          }
          send(ex, 200, "true");
        }
        case "DELETE" -> {
          synchronized (lock) {
            if (q.containsKey("recurse")) {
              kv.subMap(key, key + Character.MAX_VALUE).clear();
            } else {
              kv.remove(key);
            }
            bump();
          }
          send(ex, 200, "true");
        }
        default -> read(ex, q, key);
      }
    }
  }

  private void read(HttpExchange ex, Map<String, String> q, String key) throws IOException {
    Object body;
    long answerIndex;
    synchronized (lock) {
      if (!blockUntilIndexPasses(q)) {
        return;
      }
      answerIndex = index;
      SortedMap<String, Kv> matching =
          q.containsKey("recurse") || q.containsKey("keys")
              ? kv.subMap(key, key + Character.MAX_VALUE)
              : kv.containsKey(key) ? new TreeMap<>(Map.of(key, kv.get(key))) : new TreeMap<>();
      if (matching.isEmpty()) {
        body = null;
      } else if (q.containsKey("keys")) {
        body = new ArrayList<>(matching.keySet());
      } else {
        List<Map<String, Object>> list = new ArrayList<>();
        matching.forEach(
            (k, v) -> {
              Map<String, Object> m = new LinkedHashMap<>();
              m.put("LockIndex", 0);
              m.put("Key", k);
              m.put("Flags", 0);
              m.put(
                  "Value",
                  v.value().length == 0 ? null : Base64.getEncoder().encodeToString(v.value()));
              m.put("CreateIndex", v.createIndex());
              m.put("ModifyIndex", v.modifyIndex());
              list.add(m);
            });
        body = list;
      }
    }
    ex.getResponseHeaders().set("X-Consul-Index", Long.toString(answerIndex));
    if (body == null) {
      send(ex, 404, "");
    } else {
      send(ex, 200, GSON.toJson(body));
    }
  }

  private void health(HttpExchange ex) throws IOException {
    try (ex) {
      Map<String, String> q = query(ex);
      if (!authorized(ex, q)) {
        return;
      }
      String name = ex.getRequestURI().getRawPath().substring("/v1/health/service/".length());
      List<Map<String, Object>> list = new ArrayList<>();
      long answerIndex;
      synchronized (lock) {
        if (!blockUntilIndexPasses(q)) {
          return;
        }
        answerIndex = index;
        for (Instance i : services.getOrDefault(name, List.of())) {
          if ("true".equals(q.get("passing")) && !i.passing()) {
            continue;
          }
          list.add(
              Map.of(
                  "Node", Map.of("Node", "node-1", "Address", "127.0.0.1"),
                  "Service",
                      Map.of(
                          "ID",
                          i.id(),
                          "Service",
                          name,
                          "Address",
                          i.address(),
                          "Port",
                          i.port(),
                          "Tags",
                          List.of()),
                  "Checks", List.of(Map.of("Status", i.passing() ? "passing" : "critical"))));
        }
      }
      ex.getResponseHeaders().set("X-Consul-Index", Long.toString(answerIndex));
      send(ex, 200, GSON.toJson(list));
    }
  }

  /**
   * A blocking query: with {@code index}, waits (holding the lock's monitor) until the store's
   * index passes it or {@code wait} runs out. False if interrupted (the emulator is stopping).
   */
  private boolean blockUntilIndexPasses(Map<String, String> q) {
    long after = Long.parseLong(q.getOrDefault("index", "0"));
    long deadline = System.nanoTime() + parseWait(q.getOrDefault("wait", "5m")).toNanos();
    while (after > 0 && index <= after && System.nanoTime() < deadline) {
      try {
        lock.wait(Math.max(1, (deadline - System.nanoTime()) / 1_000_000));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return false;
      }
    }
    return true;
  }

  private boolean authorized(HttpExchange ex, Map<String, String> q) throws IOException {
    if (token.isEmpty()) {
      return true;
    }
    String given = q.getOrDefault("token", ex.getRequestHeaders().getFirst("X-Consul-Token"));
    if (token.get().equals(given)) {
      return true;
    }
    synchronized (lock) {
      ex.getResponseHeaders().set("X-Consul-Index", Long.toString(index));
    }
    send(ex, 403, given == null ? "Permission denied" : "ACL not found");
    return false;
  }

  static Duration parseWait(String text) {
    long n = Long.parseLong(text.replaceAll("[^0-9]", ""));
    return text.endsWith("ms")
        ? Duration.ofMillis(n)
        : text.endsWith("m") ? Duration.ofMinutes(n) : Duration.ofSeconds(n);
  }

  private static Map<String, String> query(HttpExchange ex) {
    Map<String, String> q = new HashMap<>();
    String raw = ex.getRequestURI().getRawQuery();
    if (raw != null) {
      for (String part : raw.split("&")) {
        int eq = part.indexOf('=');
        q.put(
            URLDecoder.decode(eq < 0 ? part : part.substring(0, eq), StandardCharsets.UTF_8),
            eq < 0 ? "" : URLDecoder.decode(part.substring(eq + 1), StandardCharsets.UTF_8));
      }
    }
    return q;
  }

  private static void send(HttpExchange ex, int code, String body) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().set("Content-Type", "application/json");
    ex.sendResponseHeaders(code, bytes.length == 0 ? -1 : bytes.length);
    if (bytes.length > 0) {
      ex.getResponseBody().write(bytes);
    }
  }

  private void stopServer() {
    server.stop(0);
    executor.shutdownNow();
  }

  @Override
  public void close() {
    stopServer();
  }
}
