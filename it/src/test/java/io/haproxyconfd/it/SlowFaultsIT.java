package io.haproxyconfd.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.haproxyconfd.adapters.etcd.EtcdCluster;
import io.haproxyconfd.adapters.haproxy.RawHttp;
import io.haproxyconfd.domain.Await;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Faults too slow or too privileged for every CI run, run by {@code ./run faults}: etcd down for 30
 * s with requests flowing, and a state directory that turns read-only or fills up (a tmpfs mounted
 * for the test: needs root). What must hold: not one request fails, the error is reported, and the
 * daemon converges once the fault is gone.
 */
@Tag("faults")
class SlowFaultsIT {
  @RegisterExtension static EtcdCluster etcd = EtcdCluster.of(1);

  @RegisterExtension static TwoBackends backends = new TwoBackends();

  static DaemonProcess daemon(String id, String host, Map<String, String> more) throws Exception {
    EtcdWrites.putFresh(etcd.endpoints(), "/haproxy-" + id + "/services/web/domain", host);
    EtcdWrites.putFresh(
        etcd.endpoints(), "/haproxy-" + id + "/services/web/w1", backends.a.backend().toString());
    Map<String, String> env = new HashMap<>(more);
    env.put("HAPROXY_ID", id);
    env.put("ETCD_NODE", etcd.endpoints());
    env.put("CONFD_RESOLVER", "keys");
    DaemonProcess d = DaemonProcess.start(env);
    d.awaitServed(host, "backend=a ", Duration.ofSeconds(10));
    return d;
  }

  /** Keeps a fault in place for its whole duration: the length of the outage is what is tested. */
  static void holdFor(Duration outage) throws InterruptedException {
    Thread.sleep(outage.toMillis());
  }

  @Test
  void etcd_down_for_30_seconds_fails_no_request_and_is_caught_up_with_on_its_return()
      throws Exception {
    String host = "outage.example.org";
    try (DaemonProcess d = daemon("outage", host, Map.of())) {
      Traffic traffic = Traffic.start(d.http, host);
      etcd.kill(0);
      try {
        Await.until(
            Duration.ofSeconds(15),
            () -> "the daemon reports the store lost; " + d.describe(),
            () -> d.status().contains("cannot read") || d.describe().contains("cannot read"));
        holdFor(Duration.ofSeconds(30));
      } finally {
        etcd.restart(0);
      }
      long answeredDuringOutage = traffic.ok();
      long back = System.nanoTime();
      EtcdWrites.putFresh(
          etcd.endpoints(), "/haproxy-outage/services/web/w1", backends.b.backend().toString());
      d.awaitServed(host, "backend=b ", Duration.ofSeconds(2));
      System.out.printf(
          "etcd back: a change written on its return served after %d ms%n",
          (System.nanoTime() - back) / 1_000_000);
      traffic.stop().assertNoneFailed();
      assertTrue(answeredDuringOutage > 1000, answeredDuringOutage + " answered in the outage");
    }
  }

  /** What can go wrong with the state directory: made, and undone, on the test's tmpfs. */
  enum DiskFault {
    READ_ONLY("Read-only file system"),
    FULL("No space left on device");

    final String reported;

    DiskFault(String reported) {
      this.reported = reported;
    }

    /** Makes the fault; what undoes it. */
    Undo inject(Tmpfs state) throws Exception {
      if (this == READ_ONLY) {
        state.remount("ro");
        return () -> state.remount("rw");
      }
      Path filler = state.fill();
      return () -> Files.delete(filler);
    }
  }

  interface Undo {
    void run() throws Exception;
  }

  @ParameterizedTest
  @EnumSource(DiskFault.class)
  void a_broken_state_directory_keeps_serving_reports_and_recovers(DiskFault fault)
      throws Exception {
    try (Tmpfs state = Tmpfs.mount("4m")) {
      String id = "disk-" + fault.name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
      String host = id + ".example.org";
      try (DaemonProcess d = daemon(id, host, Map.of("STATE_DIR", state.dir.toString()))) {
        Traffic traffic = Traffic.start(d.http, host);
        Undo undo = fault.inject(state);
        // A setting of its own: the new service needs a reload, which writes a new generation.
        EtcdWrites.putFresh(etcd.endpoints(), "/haproxy-" + id + "/services/two/balance", "source");
        EtcdWrites.putFresh(
            etcd.endpoints(), "/haproxy-" + id + "/services/two/domain", "two." + host);
        EtcdWrites.putFresh(
            etcd.endpoints(),
            "/haproxy-" + id + "/services/two/w1",
            backends.b.backend().toString());
        Await.until(
            Duration.ofSeconds(10),
            () -> "the failure reported; " + d.describe(),
            () -> d.status().contains(fault.reported));
        assertEquals(200, RawHttp.get(d.http, host, "/").status(), "the running config serves");

        undo.run();
        d.awaitServed("two." + host, "backend=b ", Duration.ofSeconds(35));
        traffic.stop().assertNoneFailed();
      }
    }
  }

  /** A small tmpfs mounted for one test, unmounted after it (root only). */
  static final class Tmpfs implements AutoCloseable {
    final Path dir;

    private Tmpfs(Path dir) {
      this.dir = dir;
    }

    static Tmpfs mount(String size) throws Exception {
      Path dir = Files.createTempDirectory("state-tmpfs");
      run("mount", "-t", "tmpfs", "-o", "size=" + size + ",mode=0700", "tmpfs", dir.toString());
      return new Tmpfs(dir);
    }

    void remount(String mode) throws Exception {
      run("mount", "-o", "remount," + mode, dir.toString());
    }

    /** Writes a file until the file system is full; the file, to be deleted to make room. */
    Path fill() throws IOException {
      Path filler = dir.resolve("filler");
      byte[] block = new byte[64 * 1024];
      try (var out = Files.newOutputStream(filler)) {
        while (true) {
          out.write(block);
        }
      } catch (IOException full) {
        if (!String.valueOf(full.getMessage()).contains("No space left")) {
          throw full;
        }
      }
      return filler;
    }

    @Override
    public void close() throws Exception {
      run("umount", "-l", dir.toString());
    }

    private static void run(String... command) throws Exception {
      Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
        throw new IllegalStateException(
            String.join(" ", command) + " failed (these tests need root): " + out);
      }
    }
  }
}
