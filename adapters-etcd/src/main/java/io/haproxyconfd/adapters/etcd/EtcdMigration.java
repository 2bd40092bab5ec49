package io.haproxyconfd.adapters.etcd;

import io.etcd.jetcd.Client;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.PutOption;
import io.haproxyconfd.domain.KeySnapshot;
import io.haproxyconfd.domain.ProxyId;
import io.haproxyconfd.ports.KeyValueSource;
import io.haproxyconfd.ports.StoreException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Copies a proxy's keys from etcd's v2 API into v3, where the daemon reads by default. A key v3
 * lacks is copied; one v3 holds with the same value is left; one v3 holds with another value is
 * never overwritten (a transaction puts only where the key does not exist), and is reported. Run
 * twice, it changes nothing.
 */
public final class EtcdMigration {
  private EtcdMigration() {}

  /** What a key's migration is or was. */
  public enum Action {
    /** In v2 only: copied to v3 (or would be). */
    COPY,
    /** In both, with the same value: nothing to do. */
    SAME,
    /** In both with different values: v3 is left as it is. */
    DIFFERS
  }

  /** One key, relative to the prefix, what happens to it, and the values on each side. */
  public record Step(String key, Action action, String v2Value, String v3Value) {}

  /**
   * Plans the migration of {@code proxy}'s keys and, with {@code apply}, carries it out.
   *
   * @return every v2 key with its action, in key order
   * @throws StoreException when etcd cannot be read or written
   */
  public static List<Step> run(EtcdSettings settings, ProxyId proxy, boolean apply)
      throws StoreException {
    KeySnapshot v2;
    KeySnapshot v3;
    try (KeyValueSource v2Source = EtcdStore.connectV2(settings);
        KeyValueSource v3Source = EtcdStore.connect(settings)) {
      v2 = v2Source.read(proxy);
      v3 = v3Source.read(proxy);
    }
    List<Step> steps = new ArrayList<>();
    for (Map.Entry<String, KeySnapshot.Entry> e : v2.entries().entrySet()) {
      KeySnapshot.Entry there = v3.entries().get(e.getKey());
      String value = e.getValue().value();
      Action action =
          there == null ? Action.COPY : there.value().equals(value) ? Action.SAME : Action.DIFFERS;
      steps.add(new Step(e.getKey(), action, value, there == null ? "" : there.value()));
    }
    if (apply) {
      copy(settings, proxy, steps);
    }
    return steps;
  }

  private static void copy(EtcdSettings settings, ProxyId proxy, List<Step> steps)
      throws StoreException {
    try (Client client = EtcdStore.client(settings)) {
      for (Step s : steps) {
        if (s.action() != Action.COPY) {
          continue;
        }
        var key = EtcdStore.bytes("/" + proxy.folder() + "/" + s.key());
        // Only where v3 has no such key: a value written there since the plan is never replaced.
        client
            .getKVClient()
            .txn()
            .If(new Cmp(key, Cmp.Op.EQUAL, CmpTarget.version(0)))
            .Then(Op.put(key, EtcdStore.bytes(s.v2Value()), PutOption.DEFAULT))
            .commit()
            .get(settings.timeout().toMillis(), TimeUnit.MILLISECONDS);
      }
    } catch (ExecutionException | TimeoutException e) {
      throw StoreException.unavailable(
          "etcd refused or did not take a write: " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw StoreException.unavailable("interrupted", e);
    }
  }
}
