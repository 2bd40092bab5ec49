package io.haproxyconfd.adapters.etcd;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Real etcd members from Debian's {@code etcd-server} on free loopback ports, each with its own
 * temporary data directory. Members are killed and restarted by the PID of the process this class
 * started; nothing else is touched. Use as {@code @RegisterExtension static EtcdCluster etcd =
 * EtcdCluster.of(1);}.
 */
public final class EtcdCluster implements BeforeAllCallback, AfterAllCallback {
  private static final Duration START_DEADLINE = Duration.ofSeconds(30);

  /** Certificates for a TLS cluster: the CA, the server pair, and a client pair. */
  public record Tls(Path ca, Path serverCert, Path serverKey, Path clientCert, Path clientKey) {
    /** A CA, a server certificate for 127.0.0.1 and a client certificate, made by openssl. */
    public static Tls generate() {
      try {
        Path dir = Files.createTempDirectory("etcd-tls");
        openssl(
            dir,
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=test-ca",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem");
        for (String who : List.of("server", "client")) {
          openssl(
              dir,
              "req",
              "-newkey",
              "rsa:2048",
              "-nodes",
              "-subj",
              "/CN=" + who,
              "-keyout",
              who + ".key",
              "-out",
              who + ".csr");
          Files.writeString(
              dir.resolve(who + ".ext"),
              who.equals("server")
                  ? "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n"
                  : "extendedKeyUsage=clientAuth\n");
          openssl(
              dir,
              "x509",
              "-req",
              "-in",
              who + ".csr",
              "-CA",
              "ca.pem",
              "-CAkey",
              "ca.key",
              "-CAcreateserial",
              "-days",
              "2",
              "-extfile",
              who + ".ext",
              "-out",
              who + ".pem");
        }
        return new Tls(
            dir.resolve("ca.pem"),
            dir.resolve("server.pem"),
            dir.resolve("server.key"),
            dir.resolve("client.pem"),
            dir.resolve("client.key"));
      } catch (IOException | InterruptedException e) {
        throw new IllegalStateException(e);
      }
    }

    private static void openssl(Path dir, String... args) throws IOException, InterruptedException {
      List<String> cmd = new java.util.ArrayList<>(List.of("openssl"));
      cmd.addAll(List.of(args));
      Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes());
      if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
        throw new IOException("openssl failed: " + out);
      }
    }
  }

  private final int size;
  private final Optional<Tls> tls;
  private final List<Member> members = new ArrayList<>();
  private Path root;

  private final class Member {
    final String name;
    final int clientPort;
    final int peerPort;
    Process process;

    Member(String name, int clientPort, int peerPort) {
      this.name = name;
      this.clientPort = clientPort;
      this.peerPort = peerPort;
    }

    String clientUrl() {
      return (tls.isPresent() ? "https" : "http") + "://127.0.0.1:" + clientPort;
    }

    String peerUrl() {
      return "http://127.0.0.1:" + peerPort;
    }
  }

  private EtcdCluster(int size, Optional<Tls> tls) {
    this.size = size;
    this.tls = tls;
  }

  public static EtcdCluster of(int size) {
    return new EtcdCluster(size, Optional.empty());
  }

  public static EtcdCluster withTls(Tls tls) {
    return new EtcdCluster(1, Optional.of(tls));
  }

  @Override
  public void beforeAll(ExtensionContext context) throws Exception {
    start();
  }

  @Override
  public void afterAll(ExtensionContext context) throws Exception {
    stop();
  }

  public synchronized void start() throws IOException, InterruptedException {
    root = Files.createTempDirectory("etcd-test");
    for (int i = 0; i < size; i++) {
      members.add(new Member("m" + i, freePort(), freePort()));
    }
    for (int i = 0; i < size; i++) {
      launch(i, "new");
    }
    for (int i = 0; i < size; i++) {
      awaitHealthy(i);
    }
  }

  private io.etcd.jetcd.Client client;

  /**
   * A client of this cluster for a test's writes, made on first use and closed when the cluster
   * stops.
   */
  public synchronized io.etcd.jetcd.Client client() {
    if (client == null) {
      client = io.etcd.jetcd.Client.builder().endpoints(endpoints().split(",")).build();
    }
    return client;
  }

  /** The client URLs of all members, comma-separated, as ETCD_NODE takes them. */
  public String endpoints() {
    return members.stream().map(Member::clientUrl).collect(Collectors.joining(","));
  }

  public String endpoint(int member) {
    return members.get(member).clientUrl();
  }

  /** SIGKILL, by the PID of the process this cluster started. */
  public synchronized void kill(int member) throws InterruptedException {
    Process p = members.get(member).process;
    p.destroyForcibly();
    p.waitFor(10, TimeUnit.SECONDS);
  }

  /**
   * Starts a killed member again on its data directory and ports, and waits until it is healthy.
   */
  public synchronized void restart(int member) throws IOException, InterruptedException {
    launch(member, "existing");
    awaitHealthy(member);
  }

  /** The index of the current leader, as the members report it. */
  public int leader() throws IOException, InterruptedException {
    String status = etcdctl("endpoint", "status", "-w", "json");
    Matcher leader = Pattern.compile("\"leader\":(\\d+)").matcher(status);
    if (!leader.find()) {
      throw new IllegalStateException("no leader in " + status);
    }
    Matcher entry =
        Pattern.compile("\"Endpoint\":\"([^\"]+)\".*?\"member_id\":(\\d+)").matcher(status);
    while (entry.find()) {
      if (entry.group(2).equals(leader.group(1))) {
        for (int i = 0; i < members.size(); i++) {
          if (members.get(i).clientUrl().equals(entry.group(1))) {
            return i;
          }
        }
      }
    }
    throw new IllegalStateException("leader not among members: " + status);
  }

  /** Runs etcdctl (v3 API) against every member that is running; returns its output. */
  public String etcdctl(String... args) throws IOException, InterruptedException {
    List<String> flags = new ArrayList<>(List.of("--command-timeout=5s"));
    tls.ifPresent(
        t -> {
          flags.add("--cacert=" + t.ca());
          flags.add("--cert=" + t.clientCert());
          flags.add("--key=" + t.clientKey());
        });
    return etcdctl("3", flags, args);
  }

  /**
   * Runs etcdctl with the v2 API ({@code ETCDCTL_API=2}), as the seed images' users do: {@code
   * mkdir}, {@code set}, {@code rm}, {@code rmdir}. Returns its output.
   */
  public String etcdctlV2(String... args) throws IOException, InterruptedException {
    return etcdctl("2", List.of("--timeout=5s"), args);
  }

  private String etcdctl(String api, List<String> flags, String... args)
      throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(List.of("etcdctl"));
    cmd.addAll(flags);
    cmd.add(
        "--endpoints="
            + members.stream()
                .filter(m -> m.process != null && m.process.isAlive())
                .map(Member::clientUrl)
                .collect(Collectors.joining(",")));
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    pb.environment().put("ETCDCTL_API", api);
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(20, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IOException(
          "ETCDCTL_API=" + api + " etcdctl " + String.join(" ", args) + " failed: " + out);
    }
    return out;
  }

  public synchronized void stop() throws IOException, InterruptedException {
    if (client != null) {
      client.close();
      client = null;
    }
    for (Member m : members) {
      if (m.process != null) {
        m.process.destroy();
        if (!m.process.waitFor(10, TimeUnit.SECONDS)) {
          m.process.destroyForcibly();
        }
      }
    }
    members.clear();
    if (root != null) {
      try (Stream<Path> files = Files.walk(root)) {
        files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
      }
    }
  }

  private void launch(int index, String state) throws IOException {
    Member m = members.get(index);
    String cluster =
        members.stream().map(x -> x.name + "=" + x.peerUrl()).collect(Collectors.joining(","));
    List<String> cmd =
        new ArrayList<>(
            List.of(
                "etcd",
                "--name=" + m.name,
                "--data-dir=" + root.resolve(m.name),
                "--listen-client-urls=" + m.clientUrl(),
                "--advertise-client-urls=" + m.clientUrl(),
                "--listen-peer-urls=" + m.peerUrl(),
                "--initial-advertise-peer-urls=" + m.peerUrl(),
                "--initial-cluster=" + cluster,
                "--initial-cluster-state=" + state,
                "--initial-cluster-token=test-" + root.getFileName(),
                "--heartbeat-interval=50",
                "--election-timeout=500",
                // The seed image's keys live in the v2 API; its keyspace is apart from v3's.
                "--enable-v2",
                "--log-level=warn"));
    tls.ifPresent(
        t -> {
          cmd.add("--cert-file=" + t.serverCert());
          cmd.add("--key-file=" + t.serverKey());
          cmd.add("--trusted-ca-file=" + t.ca());
          cmd.add("--client-cert-auth");
        });
    m.process =
        new ProcessBuilder(cmd)
            .redirectErrorStream(true)
            .redirectOutput(
                ProcessBuilder.Redirect.appendTo(root.resolve(m.name + ".log").toFile()))
            .start();
  }

  private void awaitHealthy(int index) throws IOException, InterruptedException {
    Member m = members.get(index);
    Instant deadline = Instant.now().plus(START_DEADLINE);
    while (Instant.now().isBefore(deadline)) {
      if (!m.process.isAlive()) {
        throw new IOException(
            "etcd " + m.name + " exited: " + Files.readString(root.resolve(m.name + ".log")));
      }
      if (healthy(m)) {
        return;
      }
      java.util.concurrent.locks.LockSupport.parkNanos(20_000_000);
    }
    throw new IOException("etcd " + m.name + " not healthy within " + START_DEADLINE);
  }

  /** GET /health on plain members (works with auth on); etcdctl with certificates on TLS ones. */
  private boolean healthy(Member m) throws IOException, InterruptedException {
    if (tls.isEmpty()) {
      try {
        HttpResponse<String> r =
            HTTP.send(
                HttpRequest.newBuilder(URI.create(m.clientUrl() + "/health"))
                    .timeout(Duration.ofSeconds(1))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
        return r.statusCode() == 200 && r.body().contains("\"health\":\"true\"");
      } catch (IOException e) {
        return false;
      }
    }
    Tls t = tls.get();
    ProcessBuilder pb =
        new ProcessBuilder(
                "etcdctl",
                "--endpoints=" + m.clientUrl(),
                "--command-timeout=1s",
                "--cacert=" + t.ca(),
                "--cert=" + t.clientCert(),
                "--key=" + t.clientKey(),
                "endpoint",
                "health")
            .redirectErrorStream(true);
    pb.environment().put("ETCDCTL_API", "3");
    Process p = pb.start();
    p.getInputStream().readAllBytes();
    return p.waitFor(5, TimeUnit.SECONDS) && p.exitValue() == 0;
  }

  private static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();

  static int freePort() throws IOException {
    return io.haproxyconfd.domain.FreePorts.next();
  }
}
