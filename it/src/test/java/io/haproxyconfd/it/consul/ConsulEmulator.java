package io.haproxyconfd.it.consul;

import com.google.gson.Gson;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
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
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.LongSupplier;

/**
 * A Consul agent's HTTP API, as far as haproxy-confd uses it, following Consul's documentation:
 *
 * <ul>
 *   <li>KV: {@code GET ?recurse}, {@code ?keys}, {@code PUT} (the body is the raw value; answers
 *       {@code true}), {@code DELETE ?recurse}; base64 {@code Value}. The index of a recursive read
 *       is the highest {@code ModifyIndex} under the prefix, deleted keys' tombstones included, and
 *       the whole KV table's index when that is 0; an empty answer is a 404 that still carries
 *       {@code X-Consul-Index}.
 *   <li>The catalog: {@code PUT /v1/catalog/register} and {@code /v1/catalog/deregister} (nodes,
 *       services, checks), {@code GET /v1/health/service/<name>} ({@code ?passing} keeps the
 *       instances whose every check passes, the node's checks included; {@code Service.Address} may
 *       be empty, the node's address then applies), {@code GET /v1/health/state/any} (every check;
 *       index: the checks table's), {@code GET /v1/catalog/services} (index: the services table's).
 *       A service's health index moves only when that service, its checks or its nodes' checks
 *       change.
 *   <li>Blocking queries: with {@code index}, the answer waits until the query's own index passes
 *       it or {@code wait} (default 5 min) plus up to wait/16 of jitter runs out; an index can go
 *       backwards ({@link #reapTombstones}, {@link #restartAsDevAgent}) and then the query waits
 *       the whole time, as Consul's does.
 *   <li>ACLs: with {@link #withAcls}, a request without a token acts as the anonymous token (no
 *       rights), an unknown token is 403 "ACL not found", and what a known token may not read is
 *       filtered out: a KV list or a health answer shrinks (to a 404 or {@code []}) and carries
 *       {@code X-Consul-Results-Filtered-By-ACLs: true}.
 *   <li>Datacenters: {@code dc1} is this one; any other {@code ?dc=} is a 500 "No path to
 *       datacenter".
 * </ul>
 *
 * Data survives {@link #restart()}. Every request's raw query is kept ({@link #queries()}).
 */
public final class ConsulEmulator implements AutoCloseable {
  static {
    // Without TCP_NODELAY every small answer waits ~40 ms for the peer's delayed ACK.
    System.setProperty("sun.net.httpserver.nodelay", "true");
  }

  public static final String DATACENTER = "dc1";
  private static final Gson GSON = new Gson();

  /** A registered service instance on node "node-1" (127.0.0.1), with one check. */
  public record Instance(String id, String address, int port, boolean passing) {}

  /**
   * What a token may read: KV keys under {@code kvPrefixes}, and services and nodes when {@code
   * catalog}.
   */
  public record Policy(List<String> kvPrefixes, boolean catalog) {
    public static final Policy ALL = new Policy(List.of(""), true);
    public static final Policy NONE = new Policy(List.of(), false);

    boolean readsKey(String key) {
      return kvPrefixes.stream().anyMatch(key::startsWith);
    }
  }

  private record Kv(byte[] value, long createIndex, long modifyIndex) {}

  private record Node(String name, String address) {}

  private record Service(String node, String id, String name, String address, int port) {}

  private record Check(
      String node,
      String id,
      String serviceId,
      String serviceName,
      String status,
      long createIndex,
      long modifyIndex) {}

  private final Object lock = new Object();
  private final SortedMap<String, Kv> kv = new TreeMap<>();
  private final SortedMap<String, Long> tombstones = new TreeMap<>();
  private final Map<String, Node> nodes = new TreeMap<>();

  /** By node + "/" + service id. */
  private final Map<String, Service> services = new TreeMap<>();

  /** By service name: the keys of its instances in {@link #services}. */
  private final Map<String, java.util.Set<String>> byName = new HashMap<>();

  /** By node + "/" + check id. */
  private final TreeMap<String, Check> checks = new TreeMap<>();

  private final Map<String, Long> serviceIndexes = new HashMap<>();
  private long index = 1;
  private long kvTableIndex = 1;
  private long servicesTableIndex = 1;
  private long checksTableIndex = 1;
  private long nodesTableIndex = 1;

  /** Token to policy; empty map: ACLs off. */
  private final Map<String, Policy> acls;

  private final boolean aclsOn;

  private final ConcurrentLinkedQueue<String> queries = new ConcurrentLinkedQueue<>();
  private int port;
  private HttpServer server;
  private ExecutorService executor;

  private ConsulEmulator(Map<String, Policy> acls) {
    this.acls = new java.util.concurrent.ConcurrentHashMap<>(acls);
    this.aclsOn = !acls.isEmpty();
  }

  /** Gives a token another policy, as an operator editing it would; no index moves. */
  public void setPolicy(String token, Policy policy) {
    acls.put(token, policy);
  }

  /** An agent without ACLs, or one whose only token is {@code token}, allowed everything. */
  public static ConsulEmulator start(Optional<String> token) throws IOException {
    return withAcls(token.map(t -> Map.of(t, Policy.ALL)).orElse(Map.of()));
  }

  /**
   * An agent with ACLs on and the default policy "deny": each token may read what its policy says;
   * no token is the anonymous token, which may read nothing.
   */
  public static ConsulEmulator withAcls(Map<String, Policy> tokens) throws IOException {
    ConsulEmulator e = new ConsulEmulator(tokens);
    e.listen(0);
    return e;
  }

  public String address() {
    return "127.0.0.1:" + port;
  }

  public int port() {
    return port;
  }

  /** Every request's raw path and query so far ({@code /v1/kv/x?recurse}), in order. */
  public List<String> queries() {
    return List.copyOf(queries);
  }

  /** Stops answering, then answers again on the same port with the same data. */
  public void restart() throws IOException {
    stopServer();
    listen(port);
  }

  /**
   * A dev agent's restart: everything is gone and the index starts again from 1, so every query's
   * index goes backwards.
   */
  public void restartAsDevAgent() throws IOException {
    stopServer();
    synchronized (lock) {
      kv.clear();
      tombstones.clear();
      nodes.clear();
      services.clear();
      checks.clear();
      serviceIndexes.clear();
      byName.clear();
      index = kvTableIndex = servicesTableIndex = checksTableIndex = nodesTableIndex = 1;
    }
    listen(port);
  }

  /**
   * A restored raft snapshot (one of the causes Consul's documentation gives): the data stay, the
   * indexes go back, and connections stay open; blocked queries go on waiting for an index that
   * will not come.
   */
  public void restoreSnapshot() {
    synchronized (lock) {
      index = kvTableIndex = servicesTableIndex = checksTableIndex = nodesTableIndex = 1;
      serviceIndexes.replaceAll((name, i) -> 1L);
      lock.notifyAll();
    }
  }

  /**
   * Consul reaps tombstones after a while: a prefix whose newest change was a delete then reports a
   * lower index than before.
   */
  public void reapTombstones() {
    synchronized (lock) {
      tombstones.clear();
      lock.notifyAll();
    }
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
    server.createContext("/v1/kv/", ex -> handle(ex, this::kv));
    server.createContext("/v1/acl/token/self", ex -> handle(ex, r -> {}));
    server.createContext("/v1/health/service/", ex -> handle(ex, this::health));
    server.createContext("/v1/health/state/", ex -> handle(ex, this::healthState));
    server.createContext("/v1/catalog/services", ex -> handle(ex, this::catalogServices));
    server.createContext("/v1/catalog/nodes", ex -> handle(ex, this::catalogNodes));
    server.createContext("/v1/catalog/register", ex -> handle(ex, this::catalogRegister));
    server.createContext("/v1/catalog/deregister", ex -> handle(ex, this::catalogDeregister));
    server.start();
    port = server.getAddress().getPort();
  }

  /**
   * A request: its query, the policy of the token it carries, and whether it carried one (Consul
   * says what its ACLs filtered only to a request that presented a token).
   */
  private record Request(
      HttpExchange ex, Map<String, String> q, Policy policy, boolean tokenPresented) {}

  /**
   * {@code GET /v1/acl/token/self}: 401 "ACL support disabled" without ACLs; else the token's
   * description, the anonymous token's when none is given, or 403 "ACL not found".
   */
  private void tokenSelf(HttpExchange ex, String given) throws IOException {
    if (!aclsOn) {
      send(ex, 401, "ACL support disabled");
    } else if (given == null || given.isEmpty() || given.equals("anonymous")) {
      send(
          ex,
          200,
          "{\"AccessorID\":\"00000000-0000-0000-0000-000000000002\",\"SecretID\":\"anonymous\"}");
    } else if (acls.containsKey(given)) {
      send(ex, 200, "{\"SecretID\":\"" + given + "\"}");
    } else {
      send(ex, 403, "ACL not found");
    }
  }

  @FunctionalInterface
  private interface Handler {
    void handle(Request r) throws IOException;
  }

  private void handle(HttpExchange ex, Handler handler) throws IOException {
    try (ex) {
      String raw = ex.getRequestURI().getRawQuery();
      queries.add(ex.getRequestURI().getRawPath() + "?" + (raw == null ? "" : raw));
      Map<String, String> q = query(ex);
      String dc = q.get("dc");
      if (dc != null && !dc.isEmpty() && !dc.equals(DATACENTER)) {
        send(ex, 500, "No path to datacenter");
        return;
      }
      Policy policy = Policy.ALL;
      String given = q.getOrDefault("token", ex.getRequestHeaders().getFirst("X-Consul-Token"));
      boolean presented = given != null && !given.isEmpty();
      if (ex.getRequestURI().getPath().equals("/v1/acl/token/self")) {
        tokenSelf(ex, given);
        return;
      }
      if (aclsOn) {
        if (!presented || given.equals("anonymous")) {
          policy = acls.getOrDefault("anonymous", Policy.NONE);
        } else if (acls.containsKey(given)) {
          policy = acls.get(given);
        } else {
          send(ex, 403, "ACL not found");
          return;
        }
      }
      handler.handle(new Request(ex, q, policy, presented));
    }
  }

  // ---- the catalog, as a test writes it -------------------------------------------------------

  /** Registers (or replaces) an instance on node "node-1", with one check passing or critical. */
  public void register(String service, Instance instance) {
    synchronized (lock) {
      registerLocked(
          "node-1", "127.0.0.1", service, instance.id(), instance.address(), instance.port());
      setCheckLocked(
          "node-1",
          "service:" + instance.id(),
          instance.id(),
          service,
          instance.passing() ? "passing" : "critical");
    }
  }

  /** Writes a KV pair directly, as a PUT would: for tests that set up thousands of keys. */
  public void put(String key, String value) {
    synchronized (lock) {
      long next = ++index;
      Kv old = kv.get(key);
      kv.put(
          key,
          new Kv(
              value.getBytes(StandardCharsets.UTF_8),
              old == null ? next : old.createIndex(),
              next));
      tombstones.remove(key);
      kvTableIndex = next;
      lock.notifyAll();
    }
  }

  public void deregister(String service, String id) {
    synchronized (lock) {
      deregisterServiceLocked("node-1", id);
    }
  }

  private void registerLocked(
      String node, String nodeAddress, String name, String id, String address, int port) {
    Service same = new Service(node, id, name, address, port);
    Node known = nodes.get(node);
    if (same.equals(services.get(node + "/" + id))
        && known != null
        && known.address().equals(nodeAddress)) {
      return; // Consul leaves an unchanged registration, and its indexes, alone.
    }
    long next = ++index;
    Node before = nodes.put(node, new Node(node, nodeAddress));
    if (before != null && !before.address().equals(nodeAddress)) {
      // Consul moves the nodes table's index and those of the node's services, not the services
      // table's.
      nodesTableIndex = next;
      bumpServicesOfNode(node, next);
    } else if (before == null) {
      nodesTableIndex = next;
    }
    if (same.equals(services.get(node + "/" + id))) {
      lock.notifyAll();
      return;
    }
    Service replaced = services.put(node + "/" + id, same);
    if (replaced != null) {
      byName.getOrDefault(replaced.name(), new java.util.HashSet<>()).remove(node + "/" + id);
    }
    byName.computeIfAbsent(name, n -> new java.util.TreeSet<>()).add(node + "/" + id);
    servicesTableIndex = next;
    serviceIndexes.put(name, next);
    lock.notifyAll();
  }

  private void setCheckLocked(
      String node, String checkId, String serviceId, String serviceName, String status) {
    Check old = checks.get(node + "/" + checkId);
    if (old != null
        && old.status().equals(status)
        && old.serviceId().equals(serviceId)
        && old.serviceName().equals(serviceName)) {
      return; // Consul does not touch a check that did not change.
    }
    long next = ++index;
    checks.put(
        node + "/" + checkId,
        new Check(
            node,
            checkId,
            serviceId,
            serviceName,
            status,
            old == null ? next : old.createIndex(),
            next));
    checksTableIndex = next;
    if (serviceId.isEmpty()) {
      bumpServicesOfNode(node, next);
    } else {
      serviceIndexes.put(serviceName, next);
    }
    lock.notifyAll();
  }

  private void deregisterServiceLocked(String node, String id) {
    Service gone = services.remove(node + "/" + id);
    if (gone == null) {
      return;
    }
    byName.getOrDefault(gone.name(), new java.util.HashSet<>()).remove(node + "/" + id);
    long next = ++index;
    servicesTableIndex = next;
    serviceIndexes.put(gone.name(), next);
    if (checks.values().removeIf(c -> c.node().equals(node) && c.serviceId().equals(id))) {
      checksTableIndex = next;
    }
    lock.notifyAll();
  }

  private void bumpServicesOfNode(String node, long next) {
    services.values().stream()
        .filter(s -> s.node().equals(node))
        .forEach(s -> serviceIndexes.put(s.name(), next));
  }

  /** {@code PUT /v1/catalog/register}: a node, optionally a service, and a check or checks. */
  private void catalogRegister(Request r) throws IOException {
    if (!r.policy().catalog()) {
      send(r.ex(), 403, "Permission denied");
      return;
    }
    JsonObject body = JsonParser.parseString(body(r.ex())).getAsJsonObject();
    String node = body.get("Node").getAsString();
    String nodeAddress = string(body, "Address");
    synchronized (lock) {
      if (body.has("Service") && !body.get("Service").isJsonNull()) {
        JsonObject s = body.getAsJsonObject("Service");
        String name = s.get("Service").getAsString();
        String id = s.has("ID") ? s.get("ID").getAsString() : name;
        int servicePort = s.has("Port") ? s.get("Port").getAsInt() : 0;
        registerLocked(node, nodeAddress, name, id, string(s, "Address"), servicePort);
      } else {
        Node before = nodes.get(node);
        if (before == null || !before.address().equals(nodeAddress)) {
          long next = ++index;
          nodes.put(node, new Node(node, nodeAddress));
          nodesTableIndex = next;
          bumpServicesOfNode(node, next);
          lock.notifyAll();
        }
      }
      List<JsonObject> given = new ArrayList<>();
      if (body.has("Check") && body.get("Check").isJsonObject()) {
        given.add(body.getAsJsonObject("Check"));
      }
      if (body.has("Checks") && body.get("Checks").isJsonArray()) {
        body.getAsJsonArray("Checks").forEach(c -> given.add(c.getAsJsonObject()));
      }
      for (JsonObject c : given) {
        String serviceId = string(c, "ServiceID");
        Service s = services.get(node + "/" + serviceId);
        setCheckLocked(
            node,
            c.get("CheckID").getAsString(),
            serviceId,
            s == null ? "" : s.name(),
            c.has("Status") ? c.get("Status").getAsString() : "critical");
      }
    }
    send(r.ex(), 200, "true");
  }

  /** {@code PUT /v1/catalog/deregister}: a service, a check, or a whole node. */
  private void catalogDeregister(Request r) throws IOException {
    if (!r.policy().catalog()) {
      send(r.ex(), 403, "Permission denied");
      return;
    }
    JsonObject body = JsonParser.parseString(body(r.ex())).getAsJsonObject();
    String node = body.get("Node").getAsString();
    synchronized (lock) {
      if (body.has("ServiceID")) {
        deregisterServiceLocked(node, body.get("ServiceID").getAsString());
      } else if (body.has("CheckID")) {
        Check gone = checks.remove(node + "/" + body.get("CheckID").getAsString());
        if (gone != null) {
          long next = ++index;
          checksTableIndex = next;
          if (gone.serviceId().isEmpty()) {
            bumpServicesOfNode(node, next);
          } else {
            serviceIndexes.put(gone.serviceName(), next);
          }
          lock.notifyAll();
        }
      } else {
        for (Service s : new ArrayList<>(services.values())) {
          if (s.node().equals(node)) {
            deregisterServiceLocked(node, s.id());
          }
        }
        checks.values().removeIf(c -> c.node().equals(node));
        nodes.remove(node);
        checksTableIndex = servicesTableIndex = ++index;
        lock.notifyAll();
      }
    }
    send(r.ex(), 200, "true");
  }

  // ---- KV ------------------------------------------------------------------------------------

  private void kv(Request r) throws IOException {
    HttpExchange ex = r.ex();
    String key =
        URLDecoder.decode(
            ex.getRequestURI().getRawPath().substring("/v1/kv/".length()), StandardCharsets.UTF_8);
    switch (ex.getRequestMethod()) {
      case "PUT" -> {
        byte[] value = ex.getRequestBody().readAllBytes();
        synchronized (lock) {
          long next = ++index;
          Kv old = kv.get(key);
          kv.put(key, new Kv(value, old == null ? next : old.createIndex(), next));
          tombstones.remove(key);
          kvTableIndex = next;
          lock.notifyAll();
        }
        send(ex, 200, "true");
      }
      case "DELETE" -> {
        synchronized (lock) {
          long next = ++index;
          List<String> gone =
              r.q().containsKey("recurse")
                  ? new ArrayList<>(kv.subMap(key, key + Character.MAX_VALUE).keySet())
                  : kv.containsKey(key) ? List.of(key) : List.of();
          gone.forEach(
              k -> {
                kv.remove(k);
                tombstones.put(k, next);
              });
          kvTableIndex = next;
          lock.notifyAll();
        }
        send(ex, 200, "true");
      }
      default -> kvRead(r, key);
    }
  }

  /** Consul's index of a KV read: its entries' and tombstones' highest, else the table's. */
  private long kvIndex(String key, boolean list) {
    SortedMap<String, Kv> live =
        list ? kv.subMap(key, key + Character.MAX_VALUE) : kv.subMap(key, key + "\0");
    SortedMap<String, Long> dead =
        list
            ? tombstones.subMap(key, key + Character.MAX_VALUE)
            : tombstones.subMap(key, key + "\0");
    long max = 0;
    for (Kv v : live.values()) {
      max = Math.max(max, v.modifyIndex());
    }
    for (long t : dead.values()) {
      max = Math.max(max, t);
    }
    return max == 0 ? kvTableIndex : max;
  }

  private void kvRead(Request r, String key) throws IOException {
    boolean list = r.q().containsKey("recurse") || r.q().containsKey("keys");
    Object body;
    long answerIndex;
    boolean filtered;
    synchronized (lock) {
      if (!block(r.q(), () -> kvIndex(key, list))) {
        return;
      }
      answerIndex = kvIndex(key, list);
      SortedMap<String, Kv> matching =
          list
              ? kv.subMap(key, key + Character.MAX_VALUE)
              : kv.containsKey(key) ? new TreeMap<>(Map.of(key, kv.get(key))) : new TreeMap<>();
      SortedMap<String, Kv> readable = new TreeMap<>();
      matching.forEach(
          (k, v) -> {
            if (r.policy().readsKey(k)) {
              readable.put(k, v);
            }
          });
      filtered = readable.size() < matching.size();
      if (readable.isEmpty()) {
        body = null;
      } else if (r.q().containsKey("keys")) {
        body = new ArrayList<>(readable.keySet());
      } else {
        List<Map<String, Object>> out = new ArrayList<>();
        readable.forEach(
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
              out.add(m);
            });
        body = out;
      }
    }
    headers(r.ex(), answerIndex, filtered && r.tokenPresented());
    if (body == null) {
      send(r.ex(), 404, "");
    } else {
      send(r.ex(), 200, GSON.toJson(body));
    }
  }

  // ---- health and catalog reads ---------------------------------------------------------------

  private long serviceIndex(String name) {
    Long own = serviceIndexes.get(name);
    return own != null ? own : Math.max(servicesTableIndex, checksTableIndex);
  }

  private void health(Request r) throws IOException {
    String name =
        URLDecoder.decode(
            r.ex().getRequestURI().getRawPath().substring("/v1/health/service/".length()),
            StandardCharsets.UTF_8);
    boolean passingOnly = r.q().containsKey("passing") && !"false".equals(r.q().get("passing"));
    JsonArray out = new JsonArray();
    long answerIndex;
    boolean filtered = false;
    synchronized (lock) {
      if (!block(r.q(), () -> serviceIndex(name))) {
        return;
      }
      answerIndex = serviceIndex(name);
      for (String key : byName.getOrDefault(name, java.util.Set.of())) {
        Service s = services.get(key);
        if (!r.policy().catalog()) {
          filtered = true;
          continue;
        }
        List<Check> own =
            checks.subMap(s.node() + "/", s.node() + "/" + Character.MAX_VALUE).values().stream()
                .filter(c -> c.serviceId().isEmpty() || c.serviceId().equals(s.id()))
                .toList();
        if (passingOnly && own.stream().anyMatch(c -> !c.status().equals("passing"))) {
          continue;
        }
        JsonObject entry = new JsonObject();
        Node node = nodes.get(s.node());
        JsonObject n = new JsonObject();
        n.addProperty("Node", node.name());
        n.addProperty("Address", node.address());
        n.addProperty("Datacenter", DATACENTER);
        entry.add("Node", n);
        JsonObject svc = new JsonObject();
        svc.addProperty("ID", s.id());
        svc.addProperty("Service", s.name());
        svc.add("Tags", new JsonArray());
        svc.addProperty("Address", s.address());
        svc.addProperty("Port", s.port());
        entry.add("Service", svc);
        JsonArray cs = new JsonArray();
        own.forEach(c -> cs.add(checkJson(c)));
        entry.add("Checks", cs);
        out.add(entry);
      }
    }
    headers(r.ex(), answerIndex, filtered && r.tokenPresented());
    send(r.ex(), 200, out.toString());
  }

  private void healthState(Request r) throws IOException {
    String state = r.ex().getRequestURI().getRawPath().substring("/v1/health/state/".length());
    JsonArray out = new JsonArray();
    long answerIndex;
    boolean filtered = false;
    synchronized (lock) {
      if (!block(r.q(), () -> checksTableIndex)) {
        return;
      }
      answerIndex = checksTableIndex;
      for (Check c : checks.values()) {
        if (!state.equals("any") && !c.status().equals(state)) {
          continue;
        }
        if (!r.policy().catalog()) {
          filtered = true;
          continue;
        }
        out.add(checkJson(c));
      }
    }
    headers(r.ex(), answerIndex, filtered && r.tokenPresented());
    send(r.ex(), 200, out.toString());
  }

  private void catalogServices(Request r) throws IOException {
    JsonObject out = new JsonObject();
    long answerIndex;
    boolean filtered = false;
    synchronized (lock) {
      if (!block(r.q(), () -> servicesTableIndex)) {
        return;
      }
      answerIndex = servicesTableIndex;
      for (Service s : services.values()) {
        if (!r.policy().catalog()) {
          filtered = true;
          continue;
        }
        out.add(s.name(), new JsonArray());
      }
    }
    headers(r.ex(), answerIndex, filtered && r.tokenPresented());
    send(r.ex(), 200, out.toString());
  }

  private void catalogNodes(Request r) throws IOException {
    JsonArray out = new JsonArray();
    long answerIndex;
    boolean filtered = false;
    synchronized (lock) {
      if (!block(r.q(), () -> nodesTableIndex)) {
        return;
      }
      answerIndex = nodesTableIndex;
      for (Node n : nodes.values()) {
        if (!r.policy().catalog()) {
          filtered = true;
          continue;
        }
        JsonObject o = new JsonObject();
        o.addProperty("Node", n.name());
        o.addProperty("Address", n.address());
        o.addProperty("Datacenter", DATACENTER);
        out.add(o);
      }
    }
    headers(r.ex(), answerIndex, filtered && r.tokenPresented());
    send(r.ex(), 200, out.toString());
  }

  private static JsonElement checkJson(Check c) {
    JsonObject o = new JsonObject();
    o.addProperty("Node", c.node());
    o.addProperty("CheckID", c.id());
    o.addProperty("Name", c.id());
    o.addProperty("Status", c.status());
    o.addProperty("ServiceID", c.serviceId());
    o.addProperty("ServiceName", c.serviceName());
    o.addProperty("CreateIndex", c.createIndex());
    o.addProperty("ModifyIndex", c.modifyIndex());
    return o;
  }

  // ---- the protocol ---------------------------------------------------------------------------

  /**
   * A blocking query: with {@code index}, waits (holding the lock's monitor) until the query's own
   * index passes it, or {@code wait} plus up to wait/16 of jitter runs out. Consul answers at once
   * without an index, and never with an index below 1. False if interrupted (stopping).
   */
  private boolean block(Map<String, String> q, LongSupplier queryIndex) {
    long after = Long.parseLong(q.getOrDefault("index", "0"));
    Duration wait = parseWait(q.getOrDefault("wait", "5m"));
    long jitter = ThreadLocalRandom.current().nextLong(wait.toNanos() / 16 + 1);
    long deadline = System.nanoTime() + wait.toNanos() + jitter;
    while (after > 0 && queryIndex.getAsLong() <= after && System.nanoTime() < deadline) {
      try {
        lock.wait(Math.max(1, (deadline - System.nanoTime()) / 1_000_000));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return false;
      }
    }
    return true;
  }

  private static void headers(HttpExchange ex, long index, boolean filtered) {
    ex.getResponseHeaders().set("X-Consul-Index", Long.toString(Math.max(1, index)));
    ex.getResponseHeaders().set("X-Consul-KnownLeader", "true");
    if (filtered) {
      ex.getResponseHeaders().set("X-Consul-Results-Filtered-By-ACLs", "true");
    }
  }

  static Duration parseWait(String text) {
    long n = Long.parseLong(text.replaceAll("[^0-9]", ""));
    return text.endsWith("ms")
        ? Duration.ofMillis(n)
        : text.endsWith("m") ? Duration.ofMinutes(n) : Duration.ofSeconds(n);
  }

  private static String string(JsonObject o, String field) {
    return o.has(field) && !o.get(field).isJsonNull() ? o.get(field).getAsString() : "";
  }

  private static String body(HttpExchange ex) throws IOException {
    return new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
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
