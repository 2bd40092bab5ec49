package io.haproxyconfd.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.etcd.jetcd.Client;
import io.haproxyconfd.adapters.etcd.EtcdCluster;
import io.haproxyconfd.domain.TestCertificates;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Every command as a user runs it: the built jar in a process of its own, its stdout, stderr and
 * exit status. (Run in-process with a string writer, a command that never flushes its output would
 * look fine.)
 */
class CommandsIT {
  @RegisterExtension static EtcdCluster etcd = EtcdCluster.of(1);

  record Result(int status, String out, String err) {
    @Override
    public String toString() {
      return "exit " + status + "\nstdout:\n" + out + "\nstderr:\n" + err;
    }
  }

  static Result jar(String... args) throws Exception {
    return jar(java.util.Map.of(), args);
  }

  /** The jar run with {@code env} added to the test's environment. */
  static Result jar(java.util.Map<String, String> env, String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of("java", "-jar", jarPath()));
    command.addAll(List.of(args));
    return exec(command, env);
  }

  /**
   * The image's entrypoint run with {@code env} added to the test's environment (a null value
   * removes the variable).
   */
  static Result entrypoint(java.util.Map<String, String> env, String... args) throws Exception {
    List<String> command =
        new ArrayList<>(
            List.of(DaemonProcess.ROOT.resolve("app/src/main/docker/entrypoint.sh").toString()));
    command.addAll(List.of(args));
    java.util.Map<String, String> all = new java.util.HashMap<>(env);
    all.put("HAPROXY_CONFD_JAR", jarPath());
    return exec(command, all);
  }

  private static Result exec(List<String> command, java.util.Map<String, String> env)
      throws Exception {
    ProcessBuilder pb = new ProcessBuilder(command);
    env.forEach(
        (k, v) -> {
          if (v == null) {
            pb.environment().remove(k);
          } else {
            pb.environment().put(k, v);
          }
        });
    Process p = pb.start();
    p.getOutputStream().close();
    CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> read(p.getErrorStream()));
    String out = read(p.getInputStream());
    if (!p.waitFor(60, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError("timed out: " + command);
    }
    return new Result(p.exitValue(), out, err.get(10, TimeUnit.SECONDS));
  }

  private static String read(java.io.InputStream in) {
    try {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private static String jarPath() {
    return DaemonProcess.ROOT.resolve("app/target/haproxy-confd.jar").toString();
  }

  /** The flags that read the keys of {@code id} from the test's etcd, with agent-key backends. */
  static String[] store(String command, String id, String... more) {
    List<String> args =
        new ArrayList<>(
            List.of(
                command,
                "--haproxy-id",
                id,
                "--etcd-endpoints",
                etcd.endpoints(),
                "--resolver",
                "keys",
                "--allow-custom-settings"));
    args.addAll(List.of(more));
    return args.toArray(String[]::new);
  }

  @BeforeAll
  static void keys() throws Exception {
    etcd.etcdctl("put", "/haproxy-cli/services/myapp/domain", "example.org");
    etcd.etcdctl("put", "/haproxy-cli/services/myapp/myapp-1", "10.0.0.1:80");
    etcd.etcdctl("put", "/haproxy-cli/services/secure/domain", "secure.example.org");
    try (Client client = Client.builder().endpoints(etcd.endpoints().split(",")).build()) {
      EtcdWrites.put(
          client, "/haproxy-cli/services/secure/cert", TestCertificates.rsa("secure.example.org"));
    }
    etcd.etcdctl("put", "/haproxy-cli/services/secure/s-1", "10.0.0.2:80");
    etcd.etcdctl("put", "/haproxy-cli/services/zapi/url_beg", "/api");
    etcd.etcdctl("put", "/haproxy-cli/services/zapi/zapi-1", "10.0.0.3:80");
    etcd.etcdctl("put", "/haproxy-cli/tcp-services/db/external_port", "13306");
    etcd.etcdctl("put", "/haproxy-cli/tcp-services/db/db-1", "10.0.0.4:3306");
  }

  @Test
  void run_help_shows_every_flag_with_its_environment_variable() throws Exception {
    Result r = jar("run", "--help");
    assertEquals(0, r.status(), r.toString());
    assertTrue(r.out().startsWith("Usage: haproxy-confd run"), r.toString());
    for (String env : List.of("HAPROXY_ID", "ETCD_NODE", "QUIET_PERIOD", "CHECK_INTERVAL")) {
      assertTrue(r.out().contains("env " + env), env + " in\n" + r);
    }
    assertTrue(r.out().contains("Exit status"), r.toString());
    assertEquals("", r.err(), r.toString());
  }

  @Test
  void the_entrypoint_accepts_confds_flags_and_polling_interval_and_says_it_ignores_them()
      throws Exception {
    List<String> args = new ArrayList<>(List.of("-interval=10", "-node", "http://127.0.0.1:4001"));
    args.addAll(List.of(store("check", "cli")));
    Result r =
        entrypoint(java.util.Map.of("BACKEND_POLLING_INTERVAL", "10"), args.toArray(String[]::new));
    assertEquals(0, r.status(), r.toString());
    assertTrue(r.out().contains("3 HTTP and 1 TCP services"), r.toString());
    assertEquals(
        List.of(
            "haproxy-confd: ignoring BACKEND_POLLING_INTERVAL=10: changes are watched, not polled",
            "haproxy-confd: ignoring confd's flag -interval=10: haproxy-confd takes its settings"
                + " from the environment",
            "haproxy-confd: ignoring confd's flag -node and its value: haproxy-confd takes its"
                + " settings from the environment"),
        r.err().lines().toList(),
        r.toString());
  }

  @Test
  void check_names_a_kontena_setting_it_does_not_honour_and_fails_until_it_is_gone()
      throws Exception {
    Result clean = jar(store("check", "cli"));
    assertEquals(0, clean.status(), clean.toString());
    Result r =
        jar(java.util.Map.of("KONTENA_LB_GLOBAL_SETTINGS", "maxconn 5000"), store("check", "cli"));
    assertEquals(1, r.status(), r.toString());
    assertEquals(
        1,
        r.out()
            .lines()
            .filter(l -> l.startsWith("KONTENA_LB_GLOBAL_SETTINGS is not applied"))
            .count(),
        r.toString());
    assertTrue(r.out().contains("TEMPLATE_DIR"), r.toString());
  }

  @Test
  void the_entrypoint_passes_the_seed_readmes_hyphenated_haproxy_id_on() throws Exception {
    java.util.Map<String, String> env = new java.util.HashMap<>();
    env.put("HAPROXY_ID", null);
    env.put("HAPROXY-ID", "cli");
    Result r =
        entrypoint(
            env,
            "check",
            "--etcd-endpoints",
            etcd.endpoints(),
            "--resolver",
            "keys",
            "--allow-custom-settings");
    assertEquals(0, r.status(), r.toString());
    assertTrue(r.out().contains("3 HTTP and 1 TCP services"), r.toString());
  }

  @Test
  void version_prints_one_line() throws Exception {
    Result r = jar("--version");
    assertEquals(0, r.status(), r.toString());
    assertTrue(r.out().matches("haproxy-confd \\S+\n"), r.toString());
    assertEquals("", r.err(), r.toString());
  }

  @Test
  void a_wrong_flag_is_exit_2_with_one_line_naming_it_and_no_stack_trace() throws Exception {
    Result r = jar("render", "--no-such-flag");
    assertEquals(2, r.status(), r.toString());
    assertTrue(r.err().startsWith("Unknown option: '--no-such-flag'"), r.toString());
    assertFalse(r.err().contains("\tat "), r.toString());
    assertEquals("", r.out(), r.toString());
  }

  @Test
  void render_prints_the_config() throws Exception {
    Result r = jar(store("render", "cli"));
    assertEquals(0, r.status(), r.toString());
    assertTrue(r.out().contains("\nbackend http-myapp\n"), r.toString());
    assertTrue(r.out().contains("\nlisten tcp-db\n"), r.toString());
    assertTrue(r.out().contains("server s1 10.0.0.1:80"), r.toString());
    assertEquals("", r.err(), r.toString());
  }

  @Test
  void render_out_writes_a_config_that_haproxy_checks_with_its_maps_and_certificates()
      throws Exception {
    Path dir = Files.createTempDirectory("render-out").resolve("new");
    Result r = jar(store("render", "cli", "--out", dir.toString()));
    assertEquals(0, r.status(), r.toString());
    Path cfg = dir.resolve("haproxy.cfg");
    assertEquals(cfg.toString(), r.out().strip(), r.toString());
    Process check =
        new ProcessBuilder("haproxy", "-c", "-f", cfg.toString()).redirectErrorStream(true).start();
    CompletableFuture<String> checked =
        CompletableFuture.supplyAsync(() -> read(check.getInputStream()));
    assertTrue(check.waitFor(30, TimeUnit.SECONDS), "haproxy -c within 30 s");
    String said = checked.get(10, TimeUnit.SECONDS);
    assertEquals(0, check.exitValue(), said + "\n" + Files.readString(cfg));
    assertTrue(Files.readString(dir.resolve("maps/host.map")).contains("example.org http-myapp"));
    assertTrue(Files.readString(dir.resolve("maps/path.map")).contains("/api http-zapi"));
    String crtList = Files.readString(dir.resolve("certs/crt-list.txt")).strip();
    assertTrue(Files.readString(Path.of(crtList)).contains("PRIVATE KEY"), crtList);
    assertTrue(Files.readString(cfg).contains(dir.resolve("maps").toString()), "maps from DIR");
    assertEquals("", r.err(), r.toString());
  }

  @Test
  void check_passes_clean_keys_with_exit_0() throws Exception {
    Result r = jar(store("check", "cli"));
    assertEquals(0, r.status(), r.toString());
    assertTrue(r.out().contains("3 HTTP and 1 TCP services"), r.toString());
    assertEquals("", r.err(), r.toString());
  }

  @Test
  void check_names_by_key_a_service_haproxy_would_refuse() throws Exception {
    etcd.etcdctl("put", "/haproxy-cli-bad/services/good/domain", "good.example.org");
    etcd.etcdctl("put", "/haproxy-cli-bad/services/good/g-1", "10.0.0.1:80");
    etcd.etcdctl("put", "/haproxy-cli-bad/services/bad/domain", "bad.example.org");
    etcd.etcdctl("put", "/haproxy-cli-bad/services/bad/b-1", "10.0.0.2:80");
    etcd.etcdctl("put", "/haproxy-cli-bad/services/bad/custom_settings", "no-such-keyword 1");
    Result r = jar(store("check", "cli-bad"));
    assertEquals(1, r.status(), r.toString());
    assertTrue(r.out().contains("services/bad: HAProxy refused it"), r.toString());
    assertFalse(r.out().contains("services/good:"), r.toString());
    assertTrue(r.out().contains("1 HTTP and 0 TCP services"), r.toString());
  }
}
