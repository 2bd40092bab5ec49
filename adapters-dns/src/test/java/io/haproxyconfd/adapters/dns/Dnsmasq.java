package io.haproxyconfd.adapters.dns;

import io.haproxyconfd.domain.Await;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A real dnsmasq (Debian's package) on a free loopback port, answering from a hosts file with a
 * real TTL; unknown names get NXDOMAIN. {@link #hosts} rewrites the file and sends SIGHUP to the
 * PID this class started.
 */
public final class Dnsmasq implements BeforeAllCallback, AfterAllCallback {
  private final int ttlSeconds;
  private final List<String> srvRecords;
  private Path dir;
  private Path hostsFile;
  private Process process;
  private int port;

  private Dnsmasq(int ttlSeconds, List<String> srvRecords) {
    this.ttlSeconds = ttlSeconds;
    this.srvRecords = List.copyOf(srvRecords);
  }

  /**
   * @param srvRecords dnsmasq {@code --srv-host} values, e.g. {@code
   *     _http._tcp.web,web-1.test,8080}
   */
  public static Dnsmasq withTtl(int ttlSeconds, String... srvRecords) {
    return new Dnsmasq(ttlSeconds, List.of(srvRecords));
  }

  @Override
  public void beforeAll(ExtensionContext context) throws Exception {
    dir = Files.createTempDirectory("dnsmasq");
    // dnsmasq drops root privileges; the file must stay readable for the SIGHUP re-read
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
    hostsFile = dir.resolve("hosts");
    Files.writeString(hostsFile, "");
    Files.setPosixFilePermissions(hostsFile, PosixFilePermissions.fromString("rw-r--r--"));
    port = freeUdpPort();
    List<String> cmd =
        new ArrayList<>(
            List.of(
                "dnsmasq",
                "--no-daemon",
                "--no-resolv",
                "--no-hosts",
                "--addn-hosts=" + hostsFile,
                "--listen-address=127.0.0.1",
                "--bind-interfaces",
                "--port=" + port,
                "--local=/#/",
                "--local-ttl=" + ttlSeconds,
                "--cache-size=0",
                "--pid-file=" + dir.resolve("pid")));
    srvRecords.forEach(s -> cmd.add("--srv-host=" + s));
    process =
        new ProcessBuilder(cmd)
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("log").toFile())
            .start();
    Instant deadline = Instant.now().plusSeconds(10);
    while (!Files.readString(dir.resolve("log")).contains("started")) {
      if (!process.isAlive() || Instant.now().isAfter(deadline)) {
        throw new IOException("dnsmasq did not start: " + Files.readString(dir.resolve("log")));
      }
      LockSupport.parkNanos(Duration.ofMillis(10).toNanos());
    }
  }

  @Override
  public void afterAll(ExtensionContext context) throws Exception {
    process.destroy();
    process.waitFor(5, TimeUnit.SECONDS);
  }

  public InetSocketAddress address() {
    return new InetSocketAddress(InetAddress.getLoopbackAddress(), port);
  }

  /**
   * Replaces the hosts file ({@code "10.0.0.1 web"} lines), makes dnsmasq re-read it, and returns
   * once dnsmasq has logged that it did.
   */
  public void hosts(String... lines) throws IOException, InterruptedException {
    long readsBefore = reads();
    Files.writeString(hostsFile, String.join("\n", lines) + "\n");
    Process kill = new ProcessBuilder("kill", "-HUP", Long.toString(process.pid())).start();
    if (!kill.waitFor(5, TimeUnit.SECONDS) || kill.exitValue() != 0) {
      throw new IOException("could not send SIGHUP to dnsmasq " + process.pid());
    }
    Await.until(Duration.ofSeconds(5), "dnsmasq re-read " + hostsFile, () -> reads() > readsBefore);
  }

  /** How often dnsmasq has logged reading the hosts file. */
  private long reads() throws IOException {
    String marker = "read " + hostsFile;
    return Files.readString(dir.resolve("log")).lines().filter(l -> l.contains(marker)).count();
  }

  static int freeUdpPort() throws IOException {
    return io.haproxyconfd.domain.FreePorts.next();
  }
}
