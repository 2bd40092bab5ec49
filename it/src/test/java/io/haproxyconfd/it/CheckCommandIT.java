package io.haproxyconfd.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.haproxyconfd.adapters.dns.Dnsmasq;
import io.haproxyconfd.adapters.etcd.EtcdCluster;
import io.haproxyconfd.app.Cli;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** {@code haproxy-confd check} against real etcd and dnsmasq, keys written with etcdctl. */
class CheckCommandIT {
  @RegisterExtension static EtcdCluster etcd = EtcdCluster.of(1);
  @RegisterExtension static Dnsmasq dns = Dnsmasq.withTtl(5);

  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();

  private int check(String id, String... more) {
    String[] base = {
      "check",
      "--haproxy-id",
      id,
      "--etcd-endpoints",
      etcd.endpoints(),
      "--dns-servers",
      dns.address().getHostString() + ":" + dns.address().getPort()
    };
    String[] args = new String[base.length + more.length];
    System.arraycopy(base, 0, args, 0, base.length);
    System.arraycopy(more, 0, args, base.length, more.length);
    return Cli.execute(new PrintWriter(out, true), new PrintWriter(err, true), args);
  }

  @Test
  void the_seed_readme_keys_check_clean_with_dns() throws Exception {
    dns.hosts("10.0.0.10 myapp", "10.0.0.20 galera");
    etcd.etcdctl("put", "/haproxy-seed/services/myapp/domain", "example.org");
    etcd.etcdctl("put", "/haproxy-seed/services/myapp/port", "80");
    etcd.etcdctl("put", "/haproxy-seed/tcp-services/galera/external_port", "3306");
    etcd.etcdctl("put", "/haproxy-seed/tcp-services/galera/internal_port", "3306");
    assertEquals(0, check("seed"), out + "" + err);
    assertTrue(out.toString().contains("1 HTTP and 1 TCP services"), out.toString());
  }

  @Test
  void bad_keys_are_listed_by_key_and_reason_with_exit_1() throws Exception {
    etcd.etcdctl("put", "/haproxy-bad/services/web/domain", "example.org");
    etcd.etcdctl("put", "/haproxy-bad/services/web/port", "80abc");
    etcd.etcdctl("put", "/haproxy-bad/services/ok/domain", "ok.example.org");
    etcd.etcdctl("put", "/haproxy-bad/services/ok/ok-1", "10.0.0.1:80");
    assertEquals(1, check("bad"), out + "" + err);
    assertTrue(
        out.toString().contains("services/web/port=\"80abc\": not a port number"), out.toString());
    assertTrue(out.toString().contains("1 HTTP and 0 TCP services"), out.toString());
  }

  @Test
  void an_empty_prefix_is_fine() {
    assertEquals(0, check("nothing-here"), out + "" + err);
    assertTrue(out.toString().contains("0 HTTP and 0 TCP services"), out.toString());
  }

  /** Each command that reads the keys once says so in one line, and exits 3. */
  @org.junit.jupiter.params.ParameterizedTest
  @org.junit.jupiter.params.provider.ValueSource(strings = {"check", "render", "explain"})
  void an_unreachable_store_is_one_line_and_exit_3(String command) throws Exception {
    int port = freePort();
    java.util.List<String> args =
        new java.util.ArrayList<>(
            java.util.List.of(
                command,
                "--haproxy-id",
                "x",
                "--etcd-endpoints",
                "127.0.0.1:" + port,
                "--store-timeout",
                "1s",
                "--resolver",
                "keys"));
    if (command.equals("explain")) {
      args.add("example.org");
    }
    int status =
        Cli.execute(
            new PrintWriter(out, true), new PrintWriter(err, true), args.toArray(String[]::new));
    assertEquals(3, status, err.toString());
    assertEquals(1, err.toString().strip().lines().count(), err.toString());
    assertTrue(err.toString().contains("etcd unavailable"), err.toString());
  }

  private static int freePort() throws java.io.IOException {
    return io.haproxyconfd.domain.FreePorts.next();
  }
}
