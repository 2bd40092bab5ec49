package io.haproxyconfd.it;

import io.etcd.jetcd.Client;
import io.etcd.jetcd.options.GetOption;
import io.haproxyconfd.domain.Await;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Key writes as fast as the client can (256 in flight), round-robin over the services' one backend
 * key each, against a running daemon; then the wait for the exact final state in its /status. For
 * the end-to-end test and {@code bench/run burst}.
 */
public final class Burst {
  private Burst() {}

  /**
   * What a burst cost.
   *
   * @param applies runtime updates plus reloads the daemon made for the burst
   * @param stale addresses in /status that are not the final ones (0 when the state is exact)
   */
  public record Result(long writtenMs, long finalStateMs, long applies, int stale) {}

  /**
   * Writes {@code writes} values to {@code services/s<i>/w1} under {@code prefix} (the proxy's
   * folder, ending in /), {@code services} of them, and waits up to 60 s for the final state.
   */
  public static Result run(Client client, DaemonProcess d, String prefix, int services, int writes)
      throws Exception {
    List<Map.Entry<String, String>> pairs = new ArrayList<>();
    for (int i = 0; i < writes; i++) {
      int service = i % services;
      int round = i / services;
      // Unique to the service and the round: 10.<service / 250>.<service % 250 + 1>.<round>
      pairs.add(
          Map.entry(
              prefix + "services/s" + service + "/w1",
              "10."
                  + service / 250
                  + "."
                  + (service % 250 + 1)
                  + "."
                  + (round % 250 + 1)
                  + ":8080"));
    }
    long before = applies(d);
    long start = System.nanoTime();
    EtcdWrites.putAll(client, pairs, Duration.ofSeconds(120));
    long writtenMs = (System.nanoTime() - start) / 1_000_000;
    // Writes in flight together may land in any order: the final state is what etcd holds now.
    List<String> expected = new ArrayList<>();
    for (var kv :
        client
            .getKVClient()
            .get(EtcdWrites.bytes(prefix + "services/"), GetOption.builder().isPrefix(true).build())
            .get(10, TimeUnit.SECONDS)
            .getKvs()) {
      if (kv.getKey().toString(StandardCharsets.UTF_8).endsWith("/w1")) {
        expected.add("\"" + kv.getValue().toString(StandardCharsets.UTF_8) + "\"");
      }
    }
    if (expected.size() != services) {
      throw new AssertionError(expected.size() + " backend keys in etcd, not " + services);
    }
    Await.until(
        Duration.ofSeconds(60),
        () -> {
          try {
            String st = d.status();
            return "final state "
                + expected.stream().filter(e -> !st.contains(e)).toList()
                + " missing";
          } catch (Exception e) {
            return "final state; /status failed: " + e;
          }
        },
        () -> {
          String status = d.status();
          return expected.stream().allMatch(status::contains);
        });
    long finalMs = (System.nanoTime() - start) / 1_000_000;
    int addresses = d.status().split("\"10\\.", -1).length - 1;
    return new Result(writtenMs, finalMs, applies(d) - before, addresses - services);
  }

  static long applies(DaemonProcess d) throws Exception {
    return d.metric("haproxy_confd_applies_total{outcome=\"reloaded\"}")
        + d.metric("haproxy_confd_applies_total{outcome=\"runtime_update\"}");
  }
}
