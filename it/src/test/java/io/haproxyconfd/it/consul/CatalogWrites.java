package io.haproxyconfd.it.consul;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/**
 * Writes Consul's catalog through its HTTP API ({@code PUT /v1/catalog/register} and {@code
 * /deregister}), so that the same test runs against the emulator and against a real agent.
 */
public final class CatalogWrites {
  private static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  private final String address;
  private final String token;

  public CatalogWrites(String address, String token) {
    this.address = address;
    this.token = token;
  }

  /**
   * Registers an instance of {@code service} on {@code node} (at {@code nodeAddress}) with one
   * service check in {@code status}; {@code address} may be empty (the node's then applies).
   */
  public void instance(
      String node,
      String nodeAddress,
      String service,
      String id,
      String address,
      int port,
      String status)
      throws IOException, InterruptedException {
    JsonObject body = new JsonObject();
    body.addProperty("Node", node);
    body.addProperty("Address", nodeAddress);
    JsonObject s = new JsonObject();
    s.addProperty("ID", id);
    s.addProperty("Service", service);
    s.addProperty("Address", address);
    s.addProperty("Port", port);
    body.add("Service", s);
    JsonObject check = new JsonObject();
    check.addProperty("CheckID", "service:" + id);
    check.addProperty("Name", "service check");
    check.addProperty("Status", status);
    check.addProperty("ServiceID", id);
    body.add("Check", check);
    put("/v1/catalog/register", body);
  }

  /** Sets a node-level check, which counts for every instance on that node. */
  public void nodeCheck(String node, String nodeAddress, String checkId, String status)
      throws IOException, InterruptedException {
    JsonObject body = new JsonObject();
    body.addProperty("Node", node);
    body.addProperty("Address", nodeAddress);
    JsonArray checks = new JsonArray();
    JsonObject check = new JsonObject();
    check.addProperty("CheckID", checkId);
    check.addProperty("Name", checkId);
    check.addProperty("Status", status);
    checks.add(check);
    body.add("Checks", checks);
    put("/v1/catalog/register", body);
  }

  /** Removes a whole node with its instances and checks. */
  public void removeNode(String node) throws IOException, InterruptedException {
    JsonObject body = new JsonObject();
    body.addProperty("Node", node);
    put("/v1/catalog/deregister", body);
  }

  private void put(String path, JsonObject body) throws IOException, InterruptedException {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create("http://" + address + path))
            .timeout(Duration.ofSeconds(5))
            .PUT(HttpRequest.BodyPublishers.ofString(body.toString()));
    if (token != null) {
      b.header("X-Consul-Token", token);
    }
    HttpResponse<String> r = HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != 200) {
      throw new IOException(path + ": " + r.statusCode() + " " + r.body());
    }
  }
}
