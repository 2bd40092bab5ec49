package io.haproxyconfd.it;

import io.haproxyconfd.adapters.haproxy.RawHttp;
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
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The real product: the image's entrypoint script running the built jar, configured only through
 * the environment, as {@code docker run -e ...} would. Stopped with SIGTERM by its PID. Public for
 * the benchmarks.
 */
public final class DaemonProcess implements AutoCloseable {
  /** The project's root: the tests run in {@code it/}, the benchmarks in the root. */
  static final Path ROOT = root();

  private static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  public final int http;
  public final int admin;
  public final Path stateDir;

  /** The daemon's standard error: its own log. */
  public final Path log;

  /** The daemon's standard output: where HAProxy's access log goes. */
  public final Path stdout;

  private final Map<String, String> env;
  private final Process process;

  private DaemonProcess(Map<String, String> given) throws IOException {
    Map<String, String> all = new HashMap<>(given);
    all.putIfAbsent("HAPROXY_CONFD_JAR", ROOT.resolve("app/target/haproxy-confd.jar").toString());
    if (!all.containsKey("STATE_DIR")) {
      all.put("STATE_DIR", Files.createTempDirectory("daemon-state").toString());
    }
    all.putIfAbsent("BIND_ADDRESS", "127.0.0.1");
    for (String port : List.of("HTTP_PORT", "HTTPS_PORT", "STATS_PORT")) {
      if (!all.containsKey(port)) {
        all.put(port, Integer.toString(freePort()));
      }
    }
    if (!all.containsKey("ADMIN_ADDRESS")) {
      all.put("ADMIN_ADDRESS", "127.0.0.1:" + freePort());
    }
    env = Map.copyOf(all);
    http = Integer.parseInt(env.get("HTTP_PORT"));
    admin = Integer.parseInt(env.get("ADMIN_ADDRESS").replaceAll(".*:", ""));
    stateDir = Path.of(env.get("STATE_DIR"));
    // Beside the state directory, not in it: the faults tests make that one read-only or full.
    log = stateDir.resolveSibling(stateDir.getFileName() + ".log");
    stdout = stateDir.resolveSibling(stateDir.getFileName() + ".stdout");
    Files.createDirectories(stateDir);
    ProcessBuilder pb =
        new ProcessBuilder(command(env))
            .redirectError(ProcessBuilder.Redirect.appendTo(log.toFile()))
            .redirectOutput(ProcessBuilder.Redirect.appendTo(stdout.toFile()));
    pb.environment().putAll(env);
    process = pb.start();
  }

  /**
   * The entrypoint; with {@code TEST_CGROUP} set (a cgroup directory, for benchmarks), started
   * inside that cgroup, so that its limits hold from the first byte.
   */
  private static List<String> command(Map<String, String> env) {
    String entrypoint = ROOT.resolve("app/src/main/docker/entrypoint.sh").toString();
    String cgroup = env.get("TEST_CGROUP");
    if (cgroup == null) {
      return List.of(entrypoint);
    }
    return List.of(
        "sh", "-c", "echo $$ > \"$TEST_CGROUP/cgroup.procs\" && exec \"$0\"", entrypoint);
  }

  /** An environment from name/value pairs: {@code env("HAPROXY_ID", "web", "ETCD_NODE", ...)}. */
  public static Map<String, String> env(String... pairs) {
    Map<String, String> env = new HashMap<>();
    for (int i = 0; i < pairs.length; i += 2) {
      env.put(pairs[i], pairs[i + 1]);
    }
    return env;
  }

  /** Starts a daemon and waits until it has applied a config from the store. */
  public static DaemonProcess start(Map<String, String> env) throws Exception {
    return ready(new DaemonProcess(env));
  }

  /**
   * Starts a daemon with everything {@code earlier} had (ports, state directory, store), as a
   * supervisor restarting the same container would; its log is appended to.
   */
  public static DaemonProcess restart(DaemonProcess earlier) throws Exception {
    return ready(new DaemonProcess(earlier.env));
  }

  /** Starts a daemon without waiting for it. */
  public static DaemonProcess launch(Map<String, String> env) throws IOException {
    return new DaemonProcess(env);
  }

  private static DaemonProcess ready(DaemonProcess d) throws Exception {
    Await.until(Duration.ofSeconds(60), d::describe, () -> d.get("/readyz").statusCode() == 200);
    return d;
  }

  /** Waits until a request for {@code host} is answered with a body starting {@code bodyStart}. */
  public void awaitServed(String host, String bodyStart, Duration within) {
    Await.until(
        within,
        () -> host + " answered with " + bodyStart + "; " + describe(),
        () -> RawHttp.get(http, host, "/").body().startsWith(bodyStart));
  }

  /** The JVM's PID (the entrypoint execs java). */
  public long pid() {
    return process.pid();
  }

  /** SIGKILL: no shutdown hook runs, as when the kernel's OOM killer or a host crash ends it. */
  public void kill() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor(10, TimeUnit.SECONDS);
  }

  public HttpResponse<String> get(String path) throws IOException, InterruptedException {
    if (!process.isAlive()) {
      throw new IOException("daemon exited " + process.exitValue() + ": " + Files.readString(log));
    }
    return HTTP.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + admin + path))
            .timeout(Duration.ofSeconds(5))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  public String status() throws Exception {
    return get("/status").body();
  }

  /** The problems /status lists, one line each, as the log has them. */
  public String problems() throws Exception {
    var json = com.google.gson.JsonParser.parseString(status()).getAsJsonObject();
    StringBuilder lines = new StringBuilder();
    json.getAsJsonArray("problems").forEach(p -> lines.append(p.getAsString()).append('\n'));
    return lines.toString();
  }

  /** A counter or gauge from /metrics. */
  public long metric(String line) throws Exception {
    for (String l : get("/metrics").body().split("\n")) {
      if (l.startsWith(line + " ")) {
        return (long) Double.parseDouble(l.substring(line.length() + 1));
      }
    }
    throw new AssertionError("no metric " + line);
  }

  public long masterPid() throws IOException {
    return Long.parseLong(Files.readString(stateDir.resolve("run/haproxy.pid")).strip());
  }

  /**
   * HAProxy's worker processes now, as the kernel sees them (the master's children). A reload
   * starts a new one, so a set that gained no process means HAProxy did not reload, whatever the
   * daemon's own counters say.
   */
  public java.util.Set<Long> workers() throws IOException {
    return ProcessHandle.of(masterPid())
        .map(m -> m.children().map(ProcessHandle::pid).collect(java.util.stream.Collectors.toSet()))
        .orElse(java.util.Set.of());
  }

  public String describe() {
    try {
      String text = Files.readString(log);
      String out = Files.exists(stdout) ? Files.readString(stdout) : "";
      return "daemon log:\n"
          + (text.length() > 20_000 ? "..." + text.substring(text.length() - 20_000) : text)
          + (out.isEmpty()
              ? ""
              : "\nstdout:\n"
                  + (out.length() > 5_000 ? "..." + out.substring(out.length() - 5_000) : out));
    } catch (IOException e) {
      return e.toString();
    }
  }

  /** SIGTERM, then the exit status. */
  public int stop() throws InterruptedException {
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

  private static Path root() {
    Path here = Path.of("").toAbsolutePath();
    return Files.exists(here.resolve("it")) ? here : here.getParent();
  }
}
