package io.haproxyconfd.it;

import io.haproxyconfd.domain.Await;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The real product: the image's entrypoint script running the built jar, configured only through
 * the environment, as {@code docker run -e ...} would. Stopped with SIGTERM by its PID.
 */
final class DaemonProcess implements AutoCloseable {
  static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
  private static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  final int http;
  final int admin;
  final Path stateDir;
  final Path log;
  private final Process process;

  private DaemonProcess(Map<String, String> env) throws IOException {
    http = freePort();
    admin = freePort();
    stateDir = Files.createTempDirectory("daemon-state");
    log = stateDir.resolve("daemon.log");
    Map<String, String> all = new HashMap<>();
    all.put("HAPROXY_CONFD_JAR", ROOT.resolve("app/target/haproxy-confd.jar").toString());
    all.put("STATE_DIR", stateDir.toString());
    all.put("BIND_ADDRESS", "127.0.0.1");
    all.put("HTTP_PORT", Integer.toString(http));
    all.put("HTTPS_PORT", Integer.toString(freePort()));
    all.put("STATS_PORT", Integer.toString(freePort()));
    all.put("ADMIN_ADDRESS", "127.0.0.1:" + admin);
    all.putAll(env);
    ProcessBuilder pb =
        new ProcessBuilder(ROOT.resolve("app/src/main/docker/entrypoint.sh").toString())
            .redirectErrorStream(true)
            .redirectOutput(log.toFile());
    pb.environment().putAll(all);
    process = pb.start();
  }

  /** Starts a daemon and waits until it has applied a config from the store. */
  static DaemonProcess start(Map<String, String> env) throws Exception {
    DaemonProcess d = new DaemonProcess(env);
    Await.until(Duration.ofSeconds(30), d::describe, () -> d.get("/readyz").statusCode() == 200);
    return d;
  }

  HttpResponse<String> get(String path) throws IOException, InterruptedException {
    if (!process.isAlive()) {
      throw new IOException("daemon exited " + process.exitValue() + ": " + Files.readString(log));
    }
    return HTTP.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + admin + path))
            .timeout(Duration.ofSeconds(5))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  String status() throws Exception {
    return get("/status").body();
  }

  /** A counter or gauge from /metrics. */
  long metric(String line) throws Exception {
    for (String l : get("/metrics").body().split("\n")) {
      if (l.startsWith(line + " ")) {
        return (long) Double.parseDouble(l.substring(line.length() + 1));
      }
    }
    throw new AssertionError("no metric " + line);
  }

  long masterPid() throws IOException {
    return Long.parseLong(Files.readString(stateDir.resolve("run/haproxy.pid")).strip());
  }

  String describe() {
    try {
      return "daemon log:\n" + Files.readString(log);
    } catch (IOException e) {
      return e.toString();
    }
  }

  /** SIGTERM, then the exit status. */
  int stop() throws InterruptedException {
    process.destroy();
    if (!process.waitFor(20, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      return -1;
    }
    return process.exitValue();
  }

  @Override
  public void close() throws InterruptedException {
    if (process.isAlive()) {
      stop();
    }
  }

  static int freePort() throws IOException {
    return io.haproxyconfd.domain.FreePorts.next();
  }
}
