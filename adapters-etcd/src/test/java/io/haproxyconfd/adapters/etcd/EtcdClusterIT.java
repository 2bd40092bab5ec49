package io.haproxyconfd.adapters.etcd;

import static org.junit.jupiter.api.Assertions.assertNotEquals;

import io.etcd.jetcd.Client;
import io.haproxyconfd.domain.Await;
import io.haproxyconfd.domain.ProxyId;
import io.haproxyconfd.ports.KeyValueSource;
import io.haproxyconfd.ports.Mirror;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** A three-member cluster on loopback: changes keep arriving when members die. */
class EtcdClusterIT {
  @RegisterExtension static EtcdCluster etcd = EtcdCluster.of(3);

  private static final Duration WITHIN = Duration.ofSeconds(5);
  private final ProxyId proxy = new ProxyId("cluster");

  @Test
  void changes_keep_arriving_when_the_clients_member_and_then_the_leader_die() throws Exception {
    try (KeyValueSource source = EtcdStore.connect(EtcdSettings.of(etcd.endpoints()));
        Mirror mirror = new Mirror(source, proxy)) {
      put(1, "1");
      Await.until(
          WITHIN, "first change", () -> "1".equals(mirror.values().get("services/web/port")));

      // jetcd talks to the first endpoint it connected to; kill member 0, which it was given first.
      etcd.kill(0);
      put(1, "2");
      Await.until(
          WITHIN,
          () -> "change after member 0 died: " + mirror.values(),
          () -> "2".equals(mirror.values().get("services/web/port")));
      etcd.restart(0);

      int leader = etcd.leader();
      etcd.kill(leader);
      int writeVia = leader == 1 ? 2 : 1;
      put(writeVia, "3");
      Await.until(
          WITHIN,
          () -> "change after leader " + leader + " died: " + mirror.values(),
          () -> "3".equals(mirror.values().get("services/web/port")));
      assertNotEquals(leader, writeVia);
      etcd.restart(leader);
    }
  }

  /** Writes through one live member, retrying while the cluster elects a new leader. */
  private void put(int member, String value) throws Exception {
    try (Client writer = EtcdStore.client(EtcdSettings.of(etcd.endpoint(member)))) {
      Await.until(
          Duration.ofSeconds(10),
          "write through member " + member,
          () -> {
            writer
                .getKVClient()
                .put(
                    EtcdStore.bytes("/" + proxy.folder() + "/services/web/port"),
                    EtcdStore.bytes(value))
                .get(2, TimeUnit.SECONDS);
            return true;
          });
    }
  }
}
