package io.haproxyconfd.adapters.etcd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.haproxyconfd.domain.Await;
import io.haproxyconfd.domain.ProxyId;
import io.haproxyconfd.ports.KeyValueSource;
import io.haproxyconfd.ports.StoreException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Credentials and certificates: right ones read, wrong ones fail clearly and at once. */
class EtcdSecurityIT {
  private static final ProxyId PROXY = new ProxyId("secure");

  @Nested
  class Authentication {
    @RegisterExtension static EtcdCluster etcd = EtcdCluster.of(1);

    @Test
    void reads_with_the_right_password_and_refuses_a_wrong_one_as_permanent() throws Exception {
      etcd.etcdctl("user", "add", "root:rootpw");
      etcd.etcdctl("user", "add", "confd:s3cret");
      etcd.etcdctl("role", "add", "reader");
      etcd.etcdctl(
          "role", "grant-permission", "reader", "--prefix=true", "read", "/haproxy-secure/");
      etcd.etcdctl("user", "grant-role", "confd", "reader");
      etcd.etcdctl("auth", "enable");
      etcd.etcdctl("--user=root:rootpw", "put", "/haproxy-secure/services/web/port", "80");

      EtcdSettings base = EtcdSettings.of(etcd.endpoints()).withTimeout(Duration.ofSeconds(3));
      try (KeyValueSource good = EtcdStore.connect(base.withUser("confd", "s3cret"))) {
        assertEquals("80", good.read(PROXY).entries().get("services/web/port").value());
        // etcd keeps simple tokens in memory: after a restart the client's token is invalid and
        // the client must authenticate again by itself.
        etcd.kill(0);
        etcd.restart(0);
        Await.until(
            Duration.ofSeconds(10),
            "read with a refreshed token",
            () -> "80".equals(good.read(PROXY).entries().get("services/web/port").value()));
      }
      try (KeyValueSource wrong = EtcdStore.connect(base.withUser("confd", "wrong"))) {
        StoreException e = assertThrows(StoreException.class, () -> wrong.read(PROXY));
        assertTrue(e.isPermanent(), e.getMessage());
        assertTrue(e.getMessage().contains("credentials"), e.getMessage());
      }
      try (KeyValueSource other = EtcdStore.connect(base.withUser("confd", "s3cret"))) {
        StoreException e =
            assertThrows(StoreException.class, () -> other.read(new ProxyId("not-granted")));
        assertTrue(e.isPermanent(), e.getMessage());
      }
    }
  }

  @Nested
  class Tls {
    static final EtcdCluster.Tls FILES = EtcdCluster.Tls.generate();
    @RegisterExtension static EtcdCluster etcd = EtcdCluster.withTls(FILES);

    @Test
    void reads_over_tls_with_a_client_certificate() throws Exception {
      etcd.etcdctl("put", "/haproxy-secure/services/web/port", "443");
      EtcdSettings settings =
          EtcdSettings.of(etcd.endpoints())
              .withTls(FILES.ca(), Optional.of(FILES.clientCert()), Optional.of(FILES.clientKey()));
      try (KeyValueSource source = EtcdStore.connect(settings)) {
        assertEquals("443", source.read(PROXY).entries().get("services/web/port").value());
      }
    }

    @Test
    void the_v2_api_reads_over_tls_with_a_client_certificate_and_refuses_without_one()
        throws Exception {
      EtcdSettings settings =
          EtcdSettings.of(etcd.endpoints())
              .withTls(FILES.ca(), Optional.of(FILES.clientCert()), Optional.of(FILES.clientKey()));
      try (KeyValueSource source = EtcdStore.connectV2(settings)) {
        assertTrue(source.read(PROXY).revision() > 0, "answered over TLS");
      }
      EtcdSettings wrongCa =
          EtcdSettings.of(etcd.endpoints())
              .withTls(
                  FILES.clientCert(),
                  Optional.of(FILES.clientCert()),
                  Optional.of(FILES.clientKey()))
              .withTimeout(Duration.ofSeconds(3));
      try (KeyValueSource source = EtcdStore.connectV2(wrongCa)) {
        StoreException e = assertThrows(StoreException.class, () -> source.read(PROXY));
        assertTrue(e.isPermanent(), e.getMessage());
        assertTrue(e.getMessage().contains("TLS"), e.getMessage());
      }
    }

    @Test
    void an_untrusted_server_or_a_missing_client_certificate_is_a_clear_error() throws Exception {
      EtcdSettings noClientCert =
          EtcdSettings.of(etcd.endpoints())
              .withTls(FILES.ca(), Optional.empty(), Optional.empty())
              .withTimeout(Duration.ofSeconds(3));
      try (KeyValueSource source = EtcdStore.connect(noClientCert)) {
        StoreException e = assertThrows(StoreException.class, () -> source.read(PROXY));
        assertTrue(e.getMessage().startsWith("etcd"), e.getMessage());
      }
      EtcdSettings wrongCa =
          EtcdSettings.of(etcd.endpoints())
              .withTls(
                  FILES.clientCert(),
                  Optional.of(FILES.clientCert()),
                  Optional.of(FILES.clientKey()))
              .withTimeout(Duration.ofSeconds(3));
      try (KeyValueSource source = EtcdStore.connect(wrongCa)) {
        StoreException e = assertThrows(StoreException.class, () -> source.read(PROXY));
        assertTrue(e.isPermanent(), e.getMessage());
        assertTrue(e.getMessage().contains("TLS"), e.getMessage());
      }
    }

    @Test
    void a_missing_certificate_file_is_refused_before_connecting() {
      EtcdSettings missing =
          EtcdSettings.of(etcd.endpoints())
              .withTls(Path.of("/nonexistent/ca.pem"), Optional.empty(), Optional.empty());
      var e = assertThrows(IllegalArgumentException.class, () -> EtcdStore.connect(missing));
      assertTrue(e.getMessage().contains("/nonexistent/ca.pem"));
    }

    /** A CA, a server certificate for 127.0.0.1 and a client certificate, made with openssl. */
  }
}
