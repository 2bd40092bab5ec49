package io.haproxyconfd.adapters.etcd;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.haproxyconfd.adapters.etcd.EtcdMigration.Action;
import io.haproxyconfd.domain.ProxyId;
import io.haproxyconfd.ports.KeyValueSource;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** migrate against Debian's etcd with --enable-v2: v2 keys written with ETCDCTL_API=2 etcdctl. */
class EtcdMigrationIT {
  @RegisterExtension static EtcdCluster etcd = EtcdCluster.of(1);

  static final ProxyId PROXY = new ProxyId("migrate");

  static Map<String, String> v3() throws Exception {
    try (KeyValueSource v3 = EtcdStore.connect(EtcdSettings.of(etcd.endpoints()))) {
      return v3.read(PROXY).values();
    }
  }

  static List<Action> actions(List<EtcdMigration.Step> steps) {
    return steps.stream().map(EtcdMigration.Step::action).toList();
  }

  @Test
  void copies_what_v3_lacks_never_overwrites_what_differs_and_a_second_run_changes_nothing()
      throws Exception {
    etcd.etcdctlV2("mkdir", "/haproxy-migrate/services");
    etcd.etcdctlV2("set", "/haproxy-migrate/services/a/domain", "a.example.org");
    etcd.etcdctlV2("set", "/haproxy-migrate/services/b/domain", "b.example.org");
    etcd.etcdctlV2("set", "/haproxy-migrate/services/c/domain", "c.example.org");
    etcd.etcdctl("put", "/haproxy-migrate/services/b/domain", "b.example.org");
    etcd.etcdctl("put", "/haproxy-migrate/services/c/domain", "mine.example.org");
    EtcdSettings settings = EtcdSettings.of(etcd.endpoints());

    List<EtcdMigration.Step> plan = EtcdMigration.run(settings, PROXY, false);
    assertEquals(List.of(Action.COPY, Action.SAME, Action.DIFFERS), actions(plan));
    assertEquals(
        Map.of("services/b/domain", "b.example.org", "services/c/domain", "mine.example.org"),
        v3(),
        "a plan writes nothing");

    EtcdMigration.run(settings, PROXY, true);
    assertEquals(
        Map.of(
            "services/a/domain", "a.example.org",
            "services/b/domain", "b.example.org",
            "services/c/domain", "mine.example.org"),
        v3(),
        "copied what v3 lacked; kept v3's own value");

    assertEquals(
        List.of(Action.SAME, Action.SAME, Action.DIFFERS),
        actions(EtcdMigration.run(settings, PROXY, true)),
        "a second run has nothing to copy");
  }
}
