package io.haproxyconfd.adapters.etcd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.haproxyconfd.domain.ProxyId;
import io.haproxyconfd.ports.KeyValueSource;
import io.haproxyconfd.ports.StoreException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** etcd's v2 authentication: ETCD_USER/ETCD_PASSWORD as basic auth; a wrong password is final. */
class EtcdV2AuthIT {
  @RegisterExtension static EtcdCluster etcd = EtcdCluster.of(1);

  private static final HttpClient HTTP = HttpClient.newHttpClient();

  static int send(String method, String path, String body, String auth) throws Exception {
    HttpRequest.Builder r =
        HttpRequest.newBuilder(URI.create(etcd.endpoint(0) + path))
            .method(
                method,
                body == null
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(body));
    if (body != null) {
      r.header(
          "Content-Type",
          body.startsWith("{") ? "application/json" : "application/x-www-form-urlencoded");
    }
    if (auth != null) {
      r.header(
          "Authorization",
          "Basic " + Base64.getEncoder().encodeToString(auth.getBytes(StandardCharsets.UTF_8)));
    }
    return HTTP.send(r.build(), HttpResponse.BodyHandlers.ofString()).statusCode();
  }

  @Test
  void reads_with_the_right_password_and_a_wrong_one_is_refused_as_permanent() throws Exception {
    assertEquals(
        201, send("PUT", "/v2/keys/haproxy-auth/services/web/port", "value=80", null), "set");
    int created =
        send("PUT", "/v2/auth/users/root", "{\"user\":\"root\",\"password\":\"rootpw\"}", null);
    assertTrue(created == 200 || created == 201, "root user: " + created);
    assertEquals(200, send("PUT", "/v2/auth/enable", null, null), "auth enabled");

    ProxyId proxy = new ProxyId("auth");
    try (KeyValueSource right =
        EtcdStore.connectV2(EtcdSettings.of(etcd.endpoints()).withUser("root", "rootpw"))) {
      assertEquals("80", right.read(proxy).entries().get("services/web/port").value());
    }
    try (KeyValueSource wrong =
        EtcdStore.connectV2(EtcdSettings.of(etcd.endpoints()).withUser("root", "nope"))) {
      StoreException e = assertThrows(StoreException.class, () -> wrong.read(proxy));
      assertTrue(e.isPermanent(), e.getMessage());
      assertTrue(e.getMessage().contains("ETCD_USER"), e.getMessage());
    }

    // A user whose role reads another prefix only, and no rights for guests: refused, never an
    // empty prefix.
    int role =
        send(
            "PUT",
            "/v2/auth/roles/elsewhere",
            "{\"role\":\"elsewhere\",\"permissions\":{\"kv\":{\"read\":[\"/other/*\"],\"write\":[]}}}",
            "root:rootpw");
    assertTrue(role == 200 || role == 201, "role: " + role);
    int user =
        send(
            "PUT",
            "/v2/auth/users/confd",
            "{\"user\":\"confd\",\"password\":\"s3cret\",\"roles\":[\"elsewhere\"]}",
            "root:rootpw");
    assertTrue(user == 200 || user == 201, "user: " + user);
    assertEquals(
        200,
        send(
            "PUT",
            "/v2/auth/roles/guest",
            "{\"role\":\"guest\",\"revoke\":{\"kv\":{\"read\":[\"/*\"],\"write\":[\"/*\"]}}}",
            "root:rootpw"),
        "guest revoked");
    for (EtcdSettings s :
        java.util.List.of(
            EtcdSettings.of(etcd.endpoints()).withUser("confd", "s3cret"),
            EtcdSettings.of(etcd.endpoints()))) {
      try (KeyValueSource elsewhere = EtcdStore.connectV2(s)) {
        StoreException e = assertThrows(StoreException.class, () -> elsewhere.read(proxy));
        assertTrue(e.isPermanent(), e.getMessage());
        assertTrue(e.getMessage().contains("no right to read the prefix"), e.getMessage());
      }
    }
    // The same user reads once its role may: the refusal above was the missing right alone.
    int granted =
        send(
            "PUT",
            "/v2/auth/roles/elsewhere",
            "{\"role\":\"elsewhere\",\"grant\":{\"kv\":{\"read\":[\"/haproxy-auth*\"],\"write\":[]}}}",
            "root:rootpw");
    assertTrue(granted == 200 || granted == 201, "grant: " + granted);
    try (KeyValueSource confd =
        EtcdStore.connectV2(EtcdSettings.of(etcd.endpoints()).withUser("confd", "s3cret"))) {
      assertEquals("80", confd.read(proxy).entries().get("services/web/port").value());
    }
  }
}
