package io.haproxyconfd.it;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.options.DeleteOption;
import io.haproxyconfd.domain.Await;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/** Writes to etcd for the end-to-end tests and the benchmarks: one key, or many at full speed. */
public final class EtcdWrites {
  /** Puts in flight at once in {@link #putAll}: enough to keep etcd busy, not its queue full. */
  private static final int IN_FLIGHT = 256;

  private EtcdWrites() {}

  public static ByteSequence bytes(String s) {
    return ByteSequence.from(s, StandardCharsets.UTF_8);
  }

  /** Writes one key and waits for etcd's answer. */
  public static void put(Client client, String key, String value) throws Exception {
    client.getKVClient().put(bytes(key), bytes(value)).get(10, TimeUnit.SECONDS);
  }

  /** Writes all pairs in one transaction: one revision, one watch event, as a tool's apply does. */
  public static void putTogether(Client client, Map<String, String> pairs) throws Exception {
    List<io.etcd.jetcd.op.Op> puts = new ArrayList<>();
    pairs.forEach(
        (k, v) ->
            puts.add(
                io.etcd.jetcd.op.Op.put(
                    bytes(k), bytes(v), io.etcd.jetcd.options.PutOption.DEFAULT)));
    client
        .getKVClient()
        .txn()
        .Then(puts.toArray(io.etcd.jetcd.op.Op[]::new))
        .commit()
        .get(10, TimeUnit.SECONDS);
  }

  /** Deletes every key that starts with {@code prefix} and waits for etcd's answer. */
  public static void deletePrefix(Client client, String prefix) throws Exception {
    client
        .getKVClient()
        .delete(bytes(prefix), DeleteOption.builder().isPrefix(true).build())
        .get(10, TimeUnit.SECONDS);
  }

  /**
   * Writes one key through a client made for this write alone, retrying for up to 15 s while {@code
   * endpoints} elect a leader or come back. A client that lived through an outage may still be
   * backing off its reconnects (jetcd issue 1616); a new one connects at once.
   */
  public static void putFresh(String endpoints, String key, String value) throws Exception {
    try (Client client = Client.builder().endpoints(endpoints.split(",")).build()) {
      Await.until(
          Duration.ofSeconds(15),
          "write " + key + " through " + endpoints,
          () -> {
            client.getKVClient().put(bytes(key), bytes(value)).get(2, TimeUnit.SECONDS);
            return true;
          });
    }
  }

  /**
   * Writes every pair as fast as the client goes, {@value #IN_FLIGHT} in flight, and waits up to
   * {@code within} for all answers. Pairs in flight together may land in any order.
   */
  public static void putAll(Client client, List<Map.Entry<String, String>> pairs, Duration within)
      throws Exception {
    Semaphore inFlight = new Semaphore(IN_FLIGHT);
    List<CompletableFuture<?>> puts = new ArrayList<>();
    for (var kv : pairs) {
      inFlight.acquire();
      puts.add(
          client
              .getKVClient()
              .put(bytes(kv.getKey()), bytes(kv.getValue()))
              .whenComplete((r, e) -> inFlight.release()));
    }
    CompletableFuture.allOf(puts.toArray(CompletableFuture[]::new))
        .get(within.toMillis(), TimeUnit.MILLISECONDS);
  }
}
