package io.haproxyconfd.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.etcd.jetcd.Client;
import io.etcd.jetcd.options.DeleteOption;
import io.haproxyconfd.adapters.etcd.EtcdCluster;
import io.haproxyconfd.domain.Await;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The incremental passes against full ones, through HAProxy: two daemons on the same keys, one as
 * it runs by default (only what changed is read, parsed and resolved), one with {@code
 * INCREMENTAL=false} (every pass reads, parses and resolves everything). After each of 1,000 random
 * changes (backends moved, hosts and paths changed, services added and deleted, bad values,
 * clashes, TCP services) both have applied the change, and their HAProxies must hold the same
 * servers and the same map entries: {@code show servers state} and {@code show map}, not what
 * either daemon says it handed over.
 */
class IncrementalOracleIT {
  @RegisterExtension static EtcdCluster etcd = EtcdCluster.of(1);

  private static final String PREFIX = "/haproxy-oracle/";
  private static final int CHANGES = 1000;
  private static final Pattern REVISION = Pattern.compile("\"revision\"\\s*:\\s*(\\d+)");

  private static Map<String, String> env(boolean incremental) {
    Map<String, String> env = DaemonProcess.env();
    env.put("HAPROXY_ID", "oracle");
    env.put("ETCD_NODE", etcd.endpoints());
    env.put("CONFD_RESOLVER", "keys");
    env.put("QUIET_PERIOD", "5ms");
    env.put("INCREMENTAL", Boolean.toString(incremental));
    // The reference reloads for every new service; the other serves new services from spares.
    env.put("SPARE_BACKENDS", incremental ? "32" : "0");
    // Each HAProxy on an address of its own: both listen on the TCP services' ports.
    env.put("BIND_ADDRESS", incremental ? "127.0.0.2" : "127.0.0.3");
    return env;
  }

  @Test
  void incremental_passes_leave_haproxy_as_full_passes_do_after_each_of_1000_changes()
      throws Exception {
    Client client = etcd.client();
    Random random = new Random(18);
    for (int i = 0; i < 12; i++) {
      put(client, "services/s" + i + "/domain", "s" + i + ".example.org");
      put(client, "services/s" + i + "/w1", address(random));
    }
    put(client, "tcp-services/t0/external_port", "25000");
    put(client, "tcp-services/t0/w1", address(random));
    DaemonProcess full = DaemonProcess.start(env(false));
    try (DaemonProcess incremental = DaemonProcess.start(env(true))) {
      List<String> kinds = new ArrayList<>();
      int fromSpares = 0;
      Map<String, String> sparesBefore = Map.of();
      for (int change = 1; change <= CHANGES; change++) {
        String what = change(client, random);
        kinds.add(what.substring(0, what.indexOf(' ')));
        long revision = revision(client);
        for (DaemonProcess d : List.of(incremental, full)) {
          Await.until(
              Duration.ofSeconds(10),
              () -> "revision " + revision + " applied after " + what + "; " + d.describe(),
              () -> appliedRevision(d) >= revision);
        }
        String after = " after change " + change + ": " + what;
        Map<String, String> spares = assertSame(full, incremental, after);
        if (!sparesBefore.keySet().containsAll(spares.keySet())) {
          fromSpares++; // a new service went into a spare
        }
        sparesBefore = spares;
        // Every 250 changes, the full daemon stopped and started again: its HAProxy then starts
        // from a config rendered whole, with nothing changed at runtime. It keeps its state
        // directory, as a restarted daemon does, for the last good versions of services whose
        // keys are bad now are part of what it serves.
        if (change % 250 == 0) {
          full.close();
          full = DaemonProcess.restart(full);
          DaemonProcess restarted = full;
          Await.until(
              Duration.ofSeconds(10),
              () ->
                  "the restarted daemon applied revision " + revision + "; " + restarted.describe(),
              () -> appliedRevision(restarted) >= revision);
          assertSame(full, incremental, after + ", against a restarted daemon");
        }
      }
      // The walk covered what it is meant to: every kind of change, many times.
      for (String kind : List.of("backend", "host", "path", "service", "bad", "tcp")) {
        long n = kinds.stream().filter(kind::equals).count();
        assertTrue(n >= 30, kind + " changes: " + n);
      }
      assertTrue(fromSpares >= 20, "new services served from a spare: " + fromSpares);
      System.out.printf(
          "oracle: %d changes, both HAProxies the same after each; %d new services served from a"
              + " spare%n",
          CHANGES, fromSpares);
    } finally {
      full.close();
    }
  }

  /**
   * The two daemons' HAProxies hold the same servers and map entries, and the daemons the same
   * desired config (hosts, paths, ports, backends) and problems.
   *
   * @return the services the {@code actual} HAProxy serves from spares, and their spares
   */
  private static Map<String, String> assertSame(
      DaemonProcess expected, DaemonProcess actual, String when) throws Exception {
    HaproxyView b = HaproxyView.of(expected);
    HaproxyView a = HaproxyView.of(actual);
    assertEquals(b.servers(), a.servers(), "servers" + when);
    for (String map : b.maps().keySet()) {
      // Maps of exact keys and of prefixes (looked up longest first, whatever the order) are
      // changed line by line, so their order follows their history.
      if (java.util.Set.of("host.map", "host_path.map", "path.map", "strip.map").contains(map)) {
        // Sorted, not as sets: a line HAProxy held twice would show.
        assertEquals(
            b.maps().get(map).stream().sorted().toList(),
            a.maps().getOrDefault(map, List.of()).stream().sorted().toList(),
            map + when);
      } else {
        assertEquals(b.maps().get(map), a.maps().get(map), map + when);
      }
    }
    assertEquals(b.maps().keySet(), a.maps().keySet(), "maps" + when);
    assertEquals(desired(expected), desired(actual), "/status" + when);
    assertEquals(Map.of(), b.spares(), "the reference has no spares" + when);
    return a.spares();
  }

  /** The desired config and the problems, as /status tells them. */
  private static String desired(DaemonProcess d) throws Exception {
    String status = d.get("/status").body();
    int from = status.indexOf("\"http\"");
    return from < 0 ? status : status.substring(from);
  }

  /** One random change, described: its first word is its kind. */
  private static String change(Client client, Random random) throws Exception {
    String s = "s" + random.nextInt(16); // s12..s15 do not exist at first
    int dice = random.nextInt(100);
    if (dice < 35) {
      String key = "services/" + s + "/w" + (1 + random.nextInt(3));
      if (random.nextInt(4) == 0) {
        delete(client, key);
        return "backend deleted " + key;
      }
      String value = address(random);
      put(client, key, value);
      return "backend " + key + " = " + value;
    }
    if (dice < 55) {
      String value =
          List.of(
                  s + ".example.org",
                  s + ".example.org,www." + s + ".example.org",
                  "*." + s + ".example.org",
                  "shared.example.org",
                  "*.example.org")
              .get(random.nextInt(5));
      put(client, "services/" + s + "/domain", value);
      return "host services/" + s + "/domain = " + value;
    }
    if (dice < 70) {
      if (random.nextInt(4) == 0) {
        String value = random.nextBoolean() ? "true" : "false";
        put(client, "services/" + s + "/keep_path", value);
        return "keep_path services/" + s + " = " + value;
      }
      String key = "services/" + s + (random.nextBoolean() ? "/url_beg" : "/url_reg");
      if (random.nextInt(3) == 0) {
        delete(client, key);
        return "path deleted " + key;
      }
      String value =
          key.endsWith("url_beg")
              ? List.of("/api", "/api/v2", "/", "/static").get(random.nextInt(4))
              : List.of("^/img/.*\\.png$", "^/v[0-9]+/").get(random.nextInt(2));
      put(client, key, value);
      return "path " + key + " = " + value;
    }
    if (dice < 80) {
      if (random.nextBoolean()) {
        deletePrefix(client, "services/" + s + "/");
        return "service deleted " + s;
      }
      put(client, "services/" + s + "/domain", s + ".example.org");
      put(client, "services/" + s + "/w1", address(random));
      put(client, "services/" + s + "/keep_path", random.nextBoolean() ? "true" : "false");
      return "service written " + s;
    }
    if (dice < 88) {
      String key = List.of("/domain", "/w2", "/url_beg", "/balance").get(random.nextInt(4));
      String value = List.of("bad host!", "nope", "no-slash", "bogus").get(random.nextInt(4));
      put(client, "services/" + s + key, value);
      return "bad services/" + s + key + " = " + value;
    }
    String t = "t" + random.nextInt(3);
    int what = random.nextInt(4);
    if (what == 0) {
      deletePrefix(client, "tcp-services/" + t + "/");
      return "tcp deleted " + t;
    }
    String key = what == 1 ? "tcp-services/" + t + "/external_port" : "tcp-services/" + t + "/w1";
    String value = what == 1 ? Integer.toString(25000 + random.nextInt(3)) : address(random);
    put(client, key, value);
    return "tcp " + key + " = " + value;
  }

  private static String address(Random random) {
    return "127.0.0." + (1 + random.nextInt(4)) + ":" + (9000 + random.nextInt(3));
  }

  private static void put(Client client, String key, String value) throws Exception {
    EtcdWrites.put(client, PREFIX + key, value);
  }

  private static void delete(Client client, String key) throws Exception {
    client.getKVClient().delete(EtcdWrites.bytes(PREFIX + key)).get(5, TimeUnit.SECONDS);
  }

  private static void deletePrefix(Client client, String folder) throws Exception {
    client
        .getKVClient()
        .delete(EtcdWrites.bytes(PREFIX + folder), DeleteOption.builder().isPrefix(true).build())
        .get(5, TimeUnit.SECONDS);
  }

  /** etcd's revision now: every write so far is at or below it. */
  private static long revision(Client client) throws Exception {
    return client
        .getKVClient()
        .get(EtcdWrites.bytes(PREFIX))
        .get(5, TimeUnit.SECONDS)
        .getHeader()
        .getRevision();
  }

  /** The revision of the keys the daemon's last pass handed over, from its /status. */
  private static long appliedRevision(DaemonProcess d) throws Exception {
    Matcher m = REVISION.matcher(d.get("/status").body());
    return m.find() ? Long.parseLong(m.group(1)) : -1;
  }
}
