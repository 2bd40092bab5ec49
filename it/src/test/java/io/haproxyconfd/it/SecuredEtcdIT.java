package io.haproxyconfd.it;

import io.haproxyconfd.adapters.etcd.EtcdCluster;
import io.haproxyconfd.adapters.haproxy.EchoBackend;
import io.haproxyconfd.adapters.haproxy.RawHttp;
import io.haproxyconfd.domain.Await;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * etcd with authentication, and etcd over TLS with client certificates, given to the daemon the way
 * an operator gives them: through ETCD_USER/ETCD_PASSWORD and ETCD_CA/ETCD_CERT/ETCD_KEY.
 */
class SecuredEtcdIT {
  static EchoBackend a;

  @BeforeAll
  static void backend() throws Exception {
    a = new EchoBackend("a");
  }

  @AfterAll
  static void stop() {
    a.close();
  }

  static void awaitServed(DaemonProcess d, String host) {
    Await.until(
        Duration.ofSeconds(20),
        d::describe,
        () -> RawHttp.get(d.http, host, "/").body().startsWith("backend=a"));
  }

  @Nested
  class Authentication {
    @RegisterExtension static EtcdCluster etcd = EtcdCluster.of(1);

    @Test
    void a_user_and_password_from_the_environment_read_the_keys() throws Exception {
      etcd.etcdctl("user", "add", "root:rootpw");
      etcd.etcdctl("user", "add", "confd:s3cret");
      etcd.etcdctl("role", "add", "reader");
      etcd.etcdctl("role", "grant-permission", "reader", "--prefix=true", "read", "/haproxy-auth/");
      etcd.etcdctl("user", "grant-role", "confd", "reader");
      etcd.etcdctl("auth", "enable");
      etcd.etcdctl(
          "--user=root:rootpw", "put", "/haproxy-auth/services/web/domain", "auth.example.org");
      etcd.etcdctl(
          "--user=root:rootpw", "put", "/haproxy-auth/services/web/b1", a.backend().toString());
      Map<String, String> env =
          DaemonProcess.env(
              "HAPROXY_ID", "auth",
              "ETCD_NODE", etcd.endpoints(),
              "CONFD_RESOLVER", "keys",
              "ETCD_USER", "confd",
              "ETCD_PASSWORD", "s3cret");
      try (DaemonProcess d = DaemonProcess.start(env)) {
        awaitServed(d, "auth.example.org");
        // A change is seen through the watch, with the same credentials.
        etcd.etcdctl(
            "--user=root:rootpw", "put", "/haproxy-auth/services/web/domain", "new.example.org");
        awaitServed(d, "new.example.org");
      }
    }
  }

  @Nested
  class Tls {
    static final EtcdCluster.Tls FILES = EtcdCluster.Tls.generate();
    @RegisterExtension static EtcdCluster etcd = EtcdCluster.withTls(FILES);

    @Test
    void a_ca_and_a_client_certificate_from_the_environment_read_the_keys() throws Exception {
      etcd.etcdctl("put", "/haproxy-tls-store/services/web/domain", "tls.example.org");
      etcd.etcdctl("put", "/haproxy-tls-store/services/web/b1", a.backend().toString());
      Map<String, String> env =
          DaemonProcess.env(
              "HAPROXY_ID", "tls-store",
              "ETCD_NODE", etcd.endpoints(),
              "CONFD_RESOLVER", "keys",
              "ETCD_CA", FILES.ca().toString(),
              "ETCD_CERT", FILES.clientCert().toString(),
              "ETCD_KEY", FILES.clientKey().toString());
      try (DaemonProcess d = DaemonProcess.start(env)) {
        awaitServed(d, "tls.example.org");
        etcd.etcdctl("put", "/haproxy-tls-store/services/web/domain", "tls2.example.org");
        awaitServed(d, "tls2.example.org");
      }
    }
  }
}
