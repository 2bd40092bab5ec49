package io.haproxyconfd.it;

import io.etcd.jetcd.Client;
import io.etcd.jetcd.options.GetOption;
import io.haproxyconfd.domain.Await;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

/**
 * Key writes as fast as the client can (256 in flight), round-robin over the services' one backend
 * key each, against a running daemon; then the wait until HAProxy itself holds exactly what etcd
 * holds (servers from {@code show servers state}, routes from {@code show map}). For the end-to-end
 * test and {@code bench/run burst}.
 */
public final class Burst {
  private Burst() {}

  /**
   * What a burst cost.
   *
   * @param applies runtime updates plus reloads the daemon made for the burst
   * @param stale services whose servers in HAProxy are not etcd's (0 when the state is exact)
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
    Map<String, Set<String>> servers = new TreeMap<>();
    Set<String> hosts = new TreeSet<>();
    for (var kv :
        client
            .getKVClient()
            .get(EtcdWrites.bytes(prefix + "services/"), GetOption.builder().isPrefix(true).build())
            .get(10, TimeUnit.SECONDS)
            .getKvs()) {
      String[] key = kv.getKey().toString(StandardCharsets.UTF_8).split("/");
      String service = key[key.length - 2];
      String value = kv.getValue().toString(StandardCharsets.UTF_8);
      if (key[key.length - 1].equals("w1")) {
        servers.put("http-" + service, Set.of(value));
      } else if (key[key.length - 1].equals("domain")) {
        hosts.add(value + " http-" + service);
      }
    }
    if (servers.size() != services || hosts.size() != services) {
      throw new AssertionError(
          servers.size() + " backend keys and " + hosts.size() + " domains, not " + services);
    }
    HaproxyView[] view = new HaproxyView[1];
    Await.until(
        Duration.ofSeconds(60),
        () -> "HAProxy's servers and host map as in etcd; " + differences(view[0], servers, hosts),
        () -> {
          view[0] = HaproxyView.of(d);
          return differences(view[0], servers, hosts).isEmpty();
        });
    long finalMs = (System.nanoTime() - start) / 1_000_000;
    return new Result(writtenMs, finalMs, applies(d) - before, stale(HaproxyView.of(d), servers));
  }

  /** What HAProxy holds against etcd, briefly; empty when they agree exactly. */
  static String differences(HaproxyView view, Map<String, Set<String>> servers, Set<String> hosts) {
    if (view == null) {
      return "HAProxy not read yet";
    }
    List<String> wrong = new ArrayList<>();
    servers.forEach(
        (backend, endpoints) -> {
          if (!endpoints.equals(view.servers().get(backend))) {
            wrong.add(backend + " holds " + view.servers().get(backend) + ", not " + endpoints);
          }
        });
    if (!view.map("host.map").equals(hosts)) {
      wrong.add("host.map holds " + view.map("host.map").size() + " entries unlike etcd's");
    }
    view.maps()
        .forEach(
            (name, entries) -> {
              if (!name.equals("host.map") && !entries.isEmpty()) {
                wrong.add(name + " holds " + entries);
              }
            });
    return wrong.isEmpty()
        ? ""
        : wrong.size() + " differ, first " + wrong.subList(0, Math.min(3, wrong.size()));
  }

  /** Backends whose servers in HAProxy are not exactly etcd's. */
  static int stale(HaproxyView view, Map<String, Set<String>> servers) {
    return (int)
        servers.entrySet().stream()
            .filter(e -> !e.getValue().equals(view.servers().get(e.getKey())))
            .count();
  }

  static long applies(DaemonProcess d) throws Exception {
    return d.metric("haproxy_confd_applies_total{outcome=\"reloaded\"}")
        + d.metric("haproxy_confd_applies_total{outcome=\"runtime_update\"}");
  }
}
