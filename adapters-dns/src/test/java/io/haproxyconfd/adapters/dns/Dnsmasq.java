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
 * real TTL; unknown names get NXDOMAIN. Every query it receives is recorded with its arrival time
 * ({@link #queries}). {@link #hosts} rewrites the file and sends SIGHUP to the PID this class
 * started.
 */
public final class Dnsmasq implements BeforeAllCallback, AfterAllCallback {
  private final int ttlSeconds;
  private final List<String> srvRecords;
  private Path dir;
  private Path hostsFile;
  private Process process;
  private int port;
  private final StringBuffer log = new StringBuffer();
  private final java.util.Queue<Query> queries = new java.util.concurrent.ConcurrentLinkedQueue<>();
  private static final java.util.regex.Pattern QUERY =
      java.util.regex.Pattern.compile("query\\[(\\w+)\\] (\\S+) from");

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
    start();
  }

  @Override
  public void afterAll(ExtensionContext context) throws Exception {
    stop();
  }

  /** Starts dnsmasq; what {@code beforeAll} does, for a benchmark that is not a test. */
  public void start() throws IOException {
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
                // each query is a line on stderr, timed here as it arrives
                "--log-queries",
                "--pid-file=" + dir.resolve("pid")));
    srvRecords.forEach(s -> cmd.add("--srv-host=" + s));
    process = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    Thread reader = new Thread(this::readOutput, "dnsmasq-" + port);
    reader.setDaemon(true);
    reader.start();
    Instant deadline = Instant.now().plusSeconds(10);
    while (!log.toString().contains("started")) {
      if (!process.isAlive() || Instant.now().isAfter(deadline)) {
        throw new IOException("dnsmasq did not start: " + log);
      }
      LockSupport.parkNanos(Duration.ofMillis(10).toNanos());
    }
  }

  /** Stops the dnsmasq this object started. */
  public void stop() throws InterruptedException {
    process.destroy();
    process.waitFor(5, TimeUnit.SECONDS);
  }

  /** The PID of the dnsmasq this object started (to pause it with SIGSTOP, say). */
  public long pid() {
    return process.pid();
  }

  /** A query as dnsmasq logged it: when it arrived ({@link System#nanoTime}), its type and name. */
  public record Query(long nanos, String type, String name) {}

  /** Every query dnsmasq has received so far, in the order it logged them. */
  public List<Query> queries() {
    return List.copyOf(queries);
  }

  private void readOutput() {
    try (var in =
        new java.io.BufferedReader(
            new java.io.InputStreamReader(
                process.getInputStream(), java.nio.charset.StandardCharsets.UTF_8))) {
      String line;
      while ((line = in.readLine()) != null) {
        long now = System.nanoTime();
        java.util.regex.Matcher m = QUERY.matcher(line);
        if (m.find()) {
          queries.add(new Query(now, m.group(1), m.group(2)));
          continue; // thousands a second at scale: kept as queries, not as text
        }
        if (!line.contains(" is ")) { // an answer, as many as the queries
          synchronized (log) {
            log.append(line).append('\n');
          }
        }
      }
    } catch (IOException e) {
      // dnsmasq ended
    }
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
  private long reads() {
    String marker = "read " + hostsFile;
    return log.toString().lines().filter(l -> l.contains(marker)).count();
  }

  static int freeUdpPort() throws IOException {
    return io.haproxyconfd.domain.FreePorts.next();
  }
}
