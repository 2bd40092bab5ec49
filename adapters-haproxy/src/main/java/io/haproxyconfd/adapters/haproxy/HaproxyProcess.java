package io.haproxyconfd.adapters.haproxy;

import io.haproxyconfd.ports.ProxyException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * One HAProxy master (master-worker mode, daemonized so that it outlives a daemon restart) and its
 * workers. Knows HAProxy 2.6's traps: the master CLI's {@code reload} says nothing and the socket
 * refuses connections while the master re-executes, so a reload is confirmed by a new worker PID in
 * {@code show proc}, and a refused one by the master's count of failed reloads there.
 */
final class HaproxyProcess {
  private static final org.slf4j.Logger LOG =
      org.slf4j.LoggerFactory.getLogger(HaproxyProcess.class);

  private final HaproxySettings settings;
  private final Path pidFile;
  private final RuntimeApi master;
  private final RuntimeApi admin;

  HaproxyProcess(HaproxySettings settings) {
    this.settings = settings;
    Path run = settings.stateDir().resolve("run");
    this.pidFile = run.resolve("haproxy.pid");
    this.master = new RuntimeApi(run.resolve("master.sock"));
    this.admin = new RuntimeApi(run.resolve("admin.sock"));
  }

  RuntimeApi admin() {
    return admin;
  }

  /** What {@code haproxy -c} said of a file. */
  record Check(boolean valid, String output) {}

  Check check(Path config) throws ProxyException {
    Run r =
        run(
            List.of(settings.binary().toString(), "-c", "-f", config.toString()),
            Duration.ofSeconds(120));
    return new Check(r.exit == 0, r.output);
  }

  /** The master's PID, if a master this state directory belongs to is alive and answering. */
  Optional<Long> runningMaster() {
    return masterPid().filter(HaproxyProcess::alive).filter(pid -> master.answers());
  }

  boolean masterAlive() {
    return masterPid().map(HaproxyProcess::alive).orElse(false);
  }

  private Optional<Long> masterPid() {
    try {
      return Optional.of(Long.parseLong(Files.readString(pidFile).strip()));
    } catch (IOException | NumberFormatException e) {
      return Optional.empty();
    }
  }

  /**
   * Alive and not a zombie. A daemonized master that was killed stays a zombie where nothing reaps
   * orphans (a container without an init), and {@link ProcessHandle#isAlive()} still says yes.
   */
  static boolean alive(long pid) {
    if (!ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
      return false;
    }
    try {
      String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
      String afterName = stat.substring(stat.lastIndexOf(')') + 2);
      return afterName.charAt(0) != 'Z';
    } catch (IOException | RuntimeException e) {
      return true;
    }
  }

  /** The FIFO HAProxy's log goes to (its file descriptor 3); see {@link AccessLog}. */
  Path logFifo() {
    return pidFile.resolveSibling("log.fifo");
  }

  /**
   * Starts a daemonized master on the config and waits until a worker serves. HAProxy gets the log
   * FIFO, opened for reading and writing, as file descriptor 3 (daemonizing closes 0 to 2).
   */
  void start(Path config) throws ProxyException {
    Run r =
        run(
            List.of(
                "/bin/sh",
                "-c",
                "fifo=$1; shift; exec \"$@\" 3<>\"$fifo\"",
                "haproxy",
                logFifo().toString(),
                settings.binary().toString(),
                "-W",
                "-D",
                "-f",
                config.toString(),
                "-p",
                pidFile.toString(),
                "-S",
                master.socketPath() + ",mode,600"),
            settings.reloadTimeout());
    if (r.exit != 0) {
      throw new ProxyException("haproxy did not start: " + firstAlert(r.output), null);
    }
    Instant deadline = Instant.now().plus(settings.reloadTimeout());
    while (workers().isEmpty()) {
      if (!masterAlive()) {
        // Killed again while starting: say so now, so that the supervisor starts it again at
        // once rather than waiting here for a worker that will never come.
        throw new ProxyException("haproxy's master exited while starting", null);
      }
      if (Instant.now().isAfter(deadline)) {
        throw new ProxyException(
            "haproxy started but no worker answered within " + settings.reloadTimeout(), null);
      }
      LockSupport.parkNanos(Duration.ofMillis(5).toNanos());
    }
  }

  /**
   * Reloads through the master CLI and waits for a worker PID that was not there before. The old
   * workers finish their connections (bounded by hard-stop-after).
   *
   * @throws ProxyException also when HAProxy refuses the config it re-reads
   */
  void reload() throws ProxyException {
    if (!tryReload()) {
      throw new ProxyException(
          "HAProxy refused to reload on " + settings.stateDir().resolve("haproxy.cfg"), null);
    }
  }

  /**
   * Reloads through the master CLI and waits for HAProxy's answer: true once a worker runs that was
   * not there before, false when the master could not load the config it re-read. A master that
   * fails to load a config keeps its workers, serving as before, and counts the failure in {@code
   * show proc} ({@code [failed: N]}, back to 0 after a reload that works); it takes the next reload
   * as usual. So HAProxy's own parse can stand in for {@code haproxy -c}.
   */
  boolean tryReload() throws ProxyException {
    Instant deadline = Instant.now().plus(settings.reloadTimeout());
    // What HAProxy runs before: without it, every worker would look new.
    Proc before = awaitProc(deadline);
    try {
      master.send("reload");
    } catch (IOException e) {
      throw new ProxyException("master CLI refused the reload: " + e.getMessage(), e);
    }
    while (true) {
      Optional<Proc> now = proc();
      if (now.isPresent()) {
        Proc p = now.get();
        if (!p.workers().isEmpty() && !before.workers().containsAll(p.workers())) {
          return true;
        }
        if (p.reloads() > before.reloads() && p.failed() > before.failed()) {
          return false;
        }
      }
      if (Instant.now().isAfter(deadline)) {
        throw new ProxyException(
            "no new HAProxy worker within " + settings.reloadTimeout() + " of the reload", null);
      }
      LockSupport.parkNanos(Duration.ofMillis(2).toNanos());
    }
  }

  /**
   * From {@code show proc}: the master's reloads, the failed ones since the last good one, workers.
   */
  private record Proc(long reloads, long failed, List<Long> workers) {}

  private static final java.util.regex.Pattern MASTER_LINE =
      java.util.regex.Pattern.compile("^\\d+\\s+master\\s+(\\d+)\\s+\\[failed:\\s*(\\d+)\\]");

  /**
   * Whether {@code show proc} shows the master's reload counts, by which {@link #tryReload} tells a
   * refused config: an HAProxy that words it otherwise gets configs checked before a reload.
   */
  boolean tellsRefusedReloads() {
    return proc().map(p -> p.reloads() >= 0).orElse(false);
  }

  private Proc awaitProc(Instant deadline) throws ProxyException {
    while (true) {
      Optional<Proc> p = proc();
      if (p.isPresent()) {
        return p.get();
      }
      if (Instant.now().isAfter(deadline)) {
        throw new ProxyException(
            "HAProxy's master CLI did not answer within " + settings.reloadTimeout(), null);
      }
      LockSupport.parkNanos(Duration.ofMillis(2).toNanos());
    }
  }

  /** {@code show proc}, read; empty while the master cannot be reached. */
  private Optional<Proc> proc() {
    String out;
    try {
      out = master.send("show proc");
    } catch (IOException e) {
      return Optional.empty();
    }
    long reloads = -1;
    long failed = 0;
    for (String line : out.split("\n")) {
      java.util.regex.Matcher m = MASTER_LINE.matcher(line.trim());
      if (m.find()) {
        reloads = Long.parseLong(m.group(1));
        failed = Long.parseLong(m.group(2));
      }
    }
    return Optional.of(new Proc(reloads, failed, workersIn(out)));
  }

  /** Current workers' PIDs from {@code show proc}; empty while the master cannot be reached. */
  List<Long> workers() {
    try {
      return workersIn(master.send("show proc"));
    } catch (IOException e) {
      return List.of();
    }
  }

  private static List<Long> workersIn(String showProc) {
    List<Long> pids = new ArrayList<>();
    boolean inWorkers = false;
    for (String line : showProc.split("\n")) {
      if (line.startsWith("#")) {
        inWorkers = line.startsWith("# workers");
        continue;
      }
      String[] fields = line.trim().split("\\s+");
      if (inWorkers && fields.length > 1 && fields[1].equals("worker")) {
        pids.add(Long.parseLong(fields[0]));
      }
    }
    return pids;
  }

  /**
   * SIGTERM to the master this state directory's pid file names; waits until it is gone, at most 10
   * s. Says in the log which it was: the operator's word that HAProxy stopped is this line.
   */
  void stop() {
    Optional<Long> master = masterPid();
    if (master.isEmpty()) {
      LOG.info("no HAProxy to stop: no master of this state directory is running");
      return;
    }
    long pid = master.get();
    ProcessHandle.of(pid).ifPresent(ProcessHandle::destroy);
    Instant deadline = Instant.now().plusSeconds(10);
    while (alive(pid) && Instant.now().isBefore(deadline)) {
      LockSupport.parkNanos(Duration.ofMillis(5).toNanos());
    }
    if (alive(pid)) {
      LOG.error("HAProxy's master (PID {}) still runs 10 s after SIGTERM; left running", pid);
    } else {
      LOG.info("HAProxy stopped: its master (PID {}) has exited", pid);
    }
  }

  private record Run(int exit, String output) {}

  private static Run run(List<String> command, Duration timeout) throws ProxyException {
    try {
      Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
      p.getOutputStream().close();
      byte[] out = p.getInputStream().readAllBytes();
      if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        p.destroyForcibly();
        throw new ProxyException(command.get(0) + " did not finish within " + timeout, null);
      }
      return new Run(p.exitValue(), new String(out, StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new ProxyException("cannot run " + command.get(0) + ": " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ProxyException("interrupted running " + command.get(0), e);
    }
  }

  /**
   * The hard open-files limit this process has, which HAProxy started from here inherits and may
   * raise its own soft limit to; a large default when it cannot be read.
   */
  static long openFilesLimit() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/limits"))) {
        if (line.startsWith("Max open files")) {
          String hard = line.substring("Max open files".length()).trim().split("\\s+")[1];
          return hard.equals("unlimited") ? Long.MAX_VALUE : Long.parseLong(hard);
        }
      }
    } catch (IOException | RuntimeException e) {
      // Not Linux, or no /proc: assume a container runtime's usual 1,048,576.
    }
    return 1 << 20;
  }

  static String firstAlert(String output) {
    return output.lines().filter(l -> l.contains("ALERT")).findFirst().orElse(output.strip());
  }
}
