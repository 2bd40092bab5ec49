package io.haproxyconfd.it.bench;

import io.etcd.jetcd.Client;
import io.haproxyconfd.adapters.etcd.EtcdCluster;
import io.haproxyconfd.it.Burst;
import io.haproxyconfd.it.DaemonProcess;
import io.haproxyconfd.it.EtcdWrites;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Key writes as fast as the client can, through the daemon: how many applies they cost and how long
 * until the daemon holds the exact final state. Each write moves one service's backend, so every
 * one of them would be a runtime update if applied alone.
 *
 * <p>Usage: {@code bench/run burst [writes] [services]} (default 10000 100).
 */
public final class BurstWrites {
  public static void main(String[] args) throws Exception {
    int writes = args.length > 0 ? Integer.parseInt(args[0]) : 10_000;
    int services = args.length > 1 ? Integer.parseInt(args[1]) : 100;
    Path dir = Files.createTempDirectory("bench-burst");
    EtcdCluster etcd = EtcdCluster.of(1);
    etcd.start();
    try (Client client = Client.builder().endpoints(etcd.endpoints()).build()) {
      for (int i = 0; i < services; i++) {
        EtcdWrites.put(
            client, "/haproxy-burst/services/s" + i + "/domain", "s" + i + ".example.org");
        EtcdWrites.put(client, "/haproxy-burst/services/s" + i + "/w1", "10.255.255.1:8080");
      }
      try (DaemonProcess d =
          DaemonProcess.start(Bench.daemonEnv("burst", etcd, dir.resolve("state")))) {
        Burst.Result r = Burst.run(client, d, "/haproxy-burst/", services, writes);
        System.out.printf(
            "burst: %d writes over %d services, 256 in flight: written in %d ms (%.0f writes/s)%n",
            writes, services, r.writtenMs(), writes * 1000.0 / r.writtenMs());
        System.out.printf(
            "  exact final state after %d ms; %d applies (%.1f writes per apply); %d stale"
                + " addresses%n",
            r.finalStateMs(), r.applies(), (double) writes / r.applies(), r.stale());
        System.out.printf(
            "  final state later than the last write by %d ms%n", r.finalStateMs() - r.writtenMs());
      }
    } finally {
      etcd.stop();
    }
  }
}
