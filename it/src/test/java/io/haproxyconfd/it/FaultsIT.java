package io.haproxyconfd.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.haproxyconfd.adapters.etcd.EtcdCluster;
import io.haproxyconfd.adapters.haproxy.RawHttp;
import io.haproxyconfd.domain.Await;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Faults through the whole product, with requests flowing: etcd members dying, the daemon killed
 * with SIGKILL, HAProxy's worker and master killed. What must hold: not one request fails, and
 * changes keep arriving.
 */
class FaultsIT {
  @RegisterExtension static EtcdCluster etcd = EtcdCluster.of(3);

  @RegisterExtension static TwoBackends backends = new TwoBackends();

  /** A service {@code web} on {@code host} for proxy {@code id}, backend a; the daemon on it. */
  static DaemonProcess daemonWithOneService(String id, String host) throws Exception {
    EtcdWrites.putFresh(etcd.endpoint(0), "/haproxy-" + id + "/services/web/domain", host);
    EtcdWrites.putFresh(
        etcd.endpoint(0), "/haproxy-" + id + "/services/web/w1", backends.a.backend().toString());
    DaemonProcess d =
        DaemonProcess.start(
            Map.of("HAPROXY_ID", id, "ETCD_NODE", etcd.endpoints(), "CONFD_RESOLVER", "keys"));
    d.awaitServed(host, "backend=a ", Duration.ofSeconds(15));
    return d;
  }

  @Test
  void changes_keep_arriving_when_the_daemons_etcd_member_and_then_the_leader_die()
      throws Exception {
    String host = "etcd.example.org";
    String w1 = "/haproxy-etcdfaults/services/web/w1";
    try (DaemonProcess d = daemonWithOneService("etcdfaults", host)) {
      Traffic traffic = Traffic.start(d.http, host);

      // The daemon's client was given member 0 first.
      etcd.kill(0);
      EtcdWrites.putFresh(etcd.endpoint(1), w1, backends.b.backend().toString());
      d.awaitServed(host, "backend=b ", Duration.ofSeconds(15));
      etcd.restart(0);

      int leader = etcd.leader();
      etcd.kill(leader);
      EtcdWrites.putFresh(etcd.endpoint(leader == 1 ? 2 : 1), w1, backends.a.backend().toString());
      d.awaitServed(host, "backend=a ", Duration.ofSeconds(15));
      etcd.restart(leader);

      traffic.stop().assertNoneFailed();
    }
  }

  @Test
  void a_daemon_killed_with_sigkill_leaves_haproxy_serving_and_its_successor_adopts_it()
      throws Exception {
    String host = "sigkill.example.org";
    DaemonProcess first = daemonWithOneService("sigkill", host);
    long master = first.masterPid();
    Traffic traffic = Traffic.start(first.http, host);
    DaemonProcess second = null;
    try {
      first.kill();
      long answeredAtKill = traffic.ok();
      Await.until(
          Duration.ofSeconds(5),
          "requests answered with no daemon",
          () -> traffic.ok() >= answeredAtKill + 100);

      second = DaemonProcess.restart(first);
      assertEquals(master, second.masterPid(), "the running master adopted, not a second one");
      assertTrue(
          second.describe().contains("adopted the running HAProxy master (pid " + master + ")"),
          second.describe());
      EtcdWrites.putFresh(
          etcd.endpoint(0), "/haproxy-sigkill/services/web/w1", backends.b.backend().toString());
      second.awaitServed(host, "backend=b ", Duration.ofSeconds(15));
      traffic.stop().assertNoneFailed();
    } finally {
      traffic.stop();
      if (second != null) {
        second.close();
      }
    }
  }

  @Test
  void haproxy_killed_worker_or_master_serves_again_within_a_second() throws Exception {
    String host = "killed.example.org";
    try (DaemonProcess d = daemonWithOneService("haproxykill", host)) {
      for (String which : new String[] {"worker", "master"}) {
        long master = d.masterPid();
        long pid =
            which.equals("master")
                ? master
                : ProcessHandle.of(master).orElseThrow().children().findFirst().orElseThrow().pid();
        ProcessHandle.of(pid).orElseThrow().destroyForcibly();
        long killed = System.nanoTime();
        Await.until(
            Duration.ofSeconds(1),
            () -> "serving again after HAProxy's " + which + " was killed; " + d.describe(),
            () -> d.masterPid() != master && RawHttp.get(d.http, host, "/").status() == 200);
        System.out.printf(
            "HAProxy's %s killed: serving again after %d ms%n",
            which, (System.nanoTime() - killed) / 1_000_000);
      }
    }
  }
}
