package io.haproxyconfd.adapters.haproxy;

import io.haproxyconfd.domain.Backend;
import io.haproxyconfd.domain.ConfigChange;
import io.haproxyconfd.domain.HostPattern;
import io.haproxyconfd.domain.HttpService;
import io.haproxyconfd.domain.PathPrefix;
import io.haproxyconfd.domain.PathRule;
import io.haproxyconfd.domain.Problem;
import io.haproxyconfd.domain.ProxyConfig;
import io.haproxyconfd.domain.ServiceName;
import io.haproxyconfd.domain.TcpService;
import io.haproxyconfd.ports.ApplyResult;
import io.haproxyconfd.ports.ApplyResult.Outcome;
import io.haproxyconfd.ports.ProxyConfigurator;
import io.haproxyconfd.ports.ProxyException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link ProxyConfigurator} for HAProxy 2.6 in master-worker mode.
 *
 * <ul>
 *   <li>Backend-only changes go into pre-allocated server slots through the runtime API: no reload.
 *       Adding or removing an exact-host route of an existing service is {@code add map}/{@code del
 *       map}.
 *   <li>Anything else renders a new generation (config, maps, certificates), checks it with {@code
 *       haproxy -c}, moves it over haproxy.cfg and reloads through the master CLI. A service
 *       HAProxy refuses is found (by the lines the check names, else by halving) and left out.
 *   <li>haproxy.cfg on disk is always the last good config and holds the current addresses, so a
 *       restart or a reload never loses a runtime change.
 * </ul>
 *
 * <p>{@link #close()} leaves HAProxy running, so that a restarted daemon adopts it and traffic
 * never stops; {@link #stopProxy()} stops it.
 */
final class HaproxyConfigurator implements ProxyConfigurator {
  private static final Logger LOG = LoggerFactory.getLogger(HaproxyConfigurator.class);
  private static final Pattern ALERT_LINE = Pattern.compile(":(\\d+)\\]");

  private final HaproxySettings settings;
  private final HaproxyProcess process;
  private final Renderer renderer;
  private final Path configFile;
  private final ScheduledExecutorService supervisor =
      Executors.newSingleThreadScheduledExecutor(
          r -> {
            Thread t = new Thread(r, "haproxy-supervisor");
            t.setDaemon(true);
            return t;
          });

  /**
   * Writes haproxy.cfg after runtime changes, off the apply path: once changes have been quiet for
   * {@link #PERSIST_QUIET}, or at the latest {@link #PERSIST_MAX_DELAY} after the first unwritten
   * one. A burst of backend changes is rendered once, and no render competes for the CPU with the
   * requests that a change has just redirected. HAProxy restarted in between is started on a config
   * written from the current state first ({@link #supervise()}).
   */
  private final ScheduledExecutorService persister =
      Executors.newSingleThreadScheduledExecutor(
          r -> {
            Thread t = new Thread(r, "haproxy-cfg-writer");
            t.setDaemon(true);
            return t;
          });

  static final Duration PERSIST_QUIET = Duration.ofMillis(200);
  static final Duration PERSIST_MAX_DELAY = Duration.ofSeconds(2);

  /** Guards haproxy.cfg and {@link #unwritten}. */
  private final Object configFileLock = new Object();

  /** The newest runtime change not yet in haproxy.cfg, or null. */
  private Unwritten unwritten;

  /**
   * A state to write: the config, its slots, and when the first and last unwritten changes were.
   */
  private record Unwritten(ProxyConfig config, Slots slots, Path dir, long first, long last) {}

  private ProxyConfig applied;
  private ProxyConfig lastDesired;
  private Set<ServiceName> setAside = Set.of();
  private List<Problem> setAsideProblems = List.of();
  private Slots slots = Slots.empty();
  private long generation;

  HaproxyConfigurator(HaproxySettings settings) {
    this.settings = settings;
    this.process = new HaproxyProcess(settings);
    this.renderer = new Renderer(settings.templateDir());
    this.configFile = settings.stateDir().resolve("haproxy.cfg");
  }

  @Override
  public synchronized void start() throws ProxyException {
    try {
      Path run = settings.stateDir().resolve("run");
      Files.createDirectories(run);
      Files.setPosixFilePermissions(run, PosixFilePermissions.fromString("rwx------"));
      generation = Generation.latest(settings.stateDir());
    } catch (IOException e) {
      throw new ProxyException(
          "cannot use state directory " + settings.stateDir() + ": " + e.getMessage(), e);
    }
    Optional<Long> running = process.runningMaster();
    if (running.isPresent()) {
      LOG.info("adopted the running HAProxy master (pid {}) serving {}", running.get(), configFile);
    } else if (Files.exists(configFile) && process.check(configFile).valid()) {
      LOG.info("starting HAProxy on the last good config {}", configFile);
      process.start(configFile);
    } else {
      LOG.info("starting HAProxy with no service yet");
      Candidate empty = prepare(ProxyConfig.EMPTY, ++generation);
      if (!empty.check.valid()) {
        throw new ProxyException(
            "the built-in config is refused: " + HaproxyProcess.firstAlert(empty.check.output()),
            null);
      }
      commit(empty);
      process.start(configFile);
    }
    supervisor.scheduleWithFixedDelay(this::supervise, 100, 100, TimeUnit.MILLISECONDS);
  }

  /** Restarts HAProxy on the last good config if its master died. */
  private synchronized void supervise() {
    if (process.masterAlive()) {
      return;
    }
    LOG.error("HAProxy's master is gone; starting it again on {}", configFile);
    writeUnwritten();
    try {
      process.start(configFile);
    } catch (ProxyException e) {
      LOG.error("HAProxy did not start again: {}", e.getMessage());
    }
  }

  @Override
  public synchronized ApplyResult apply(ProxyConfig desired) throws ProxyException {
    if (applied != null
        && lastDesired != null
        && ConfigChange.between(lastDesired, desired).kind() == ConfigChange.Kind.NONE) {
      lastDesired = desired;
      return new ApplyResult(Outcome.UNCHANGED, desired.revision(), setAsideProblems, "no change");
    }
    ProxyConfig effective = desired.without(setAside);
    if (applied != null) {
      ConfigChange change = ConfigChange.between(applied, effective);
      if (change.kind() == ConfigChange.Kind.NONE) {
        return remember(
            desired,
            effective,
            new ApplyResult(Outcome.UNCHANGED, desired.revision(), setAsideProblems, "no change"));
      }
      Optional<String> runtime =
          change.kind() == ConfigChange.Kind.BACKENDS_ONLY
              ? updateServers(effective)
              : updateRoutes(effective);
      if (runtime.isPresent()) {
        return remember(
            desired,
            effective,
            new ApplyResult(
                Outcome.RUNTIME_UPDATE, desired.revision(), setAsideProblems, runtime.get()));
      }
    }
    return reload(desired);
  }

  private ApplyResult remember(ProxyConfig desired, ProxyConfig effective, ApplyResult result) {
    lastDesired = desired;
    applied = effective;
    return result;
  }

  /**
   * Puts new server sets into their slots through the runtime API; empty when a reload is needed.
   */
  private Optional<String> updateServers(ProxyConfig effective) {
    Optional<Slots.Update> update = slots.update(servers(effective));
    if (update.isEmpty()) {
      return Optional.empty();
    }
    List<String> commands = new ArrayList<>();
    for (Slots.Change c : update.get().changes()) {
      String server = c.backend() + "/" + c.serverName();
      if (c.server().isPresent()) {
        Backend b = c.server().get();
        commands.add("set server " + server + " addr " + b.address() + " port " + b.port());
        commands.add("set server " + server + " state ready");
      } else {
        commands.add("set server " + server + " state maint");
      }
    }
    if (!send(commands)) {
      return Optional.empty();
    }
    slots = update.get().slots();
    persist(effective);
    return Optional.of(
        update.get().changes().size() + " server slot(s) changed through the runtime API");
  }

  /**
   * Adds and removes exact-host routes of existing services with {@code add map}/{@code del map}.
   * Other map changes need a reload, because HAProxy tries prefix, suffix and regex maps in file
   * order and {@code add map} appends.
   */
  private Optional<String> updateRoutes(ProxyConfig effective) {
    if (!withoutRoutes(applied).equals(withoutRoutes(effective))) {
      return Optional.empty();
    }
    Map<String, List<String>> before = Plan.mapContents(applied);
    Map<String, List<String>> after = Plan.mapContents(effective);
    Path maps = Generation.dir(settings.stateDir(), generation).resolve("maps");
    List<String> commands = new ArrayList<>();
    for (String file : after.keySet()) {
      Set<String> removed = new TreeSet<>(before.get(file));
      removed.removeAll(after.get(file));
      Set<String> added = new TreeSet<>(after.get(file));
      added.removeAll(before.get(file));
      if (!added.isEmpty() && !file.equals(Plan.MapFile.HOST.file)) {
        return Optional.empty();
      }
      removed.forEach(
          line -> commands.add("del map " + maps.resolve(file) + " " + line.split(" ")[0]));
      added.forEach(line -> commands.add("add map " + maps.resolve(file) + " " + line));
    }
    if (!send(commands)) {
      return Optional.empty();
    }
    try {
      Generation.writeMaps(Generation.dir(settings.stateDir(), generation), after);
    } catch (IOException e) {
      LOG.error("could not write the map files: {}; the next change reloads", e.getMessage());
      applied = null;
    }
    return Optional.of(commands.size() + " route(s) changed through the runtime API");
  }

  /**
   * The same services with every route replaced by one placeholder: compares all but the routes.
   */
  private static ProxyConfig withoutRoutes(ProxyConfig config) {
    List<HttpService> http = new ArrayList<>();
    for (HttpService s : config.http()) {
      http.add(
          s.withRoutes(List.<HostPattern>of(), List.<PathRule>of(PathPrefix.of("/" + s.name()))));
    }
    return new ProxyConfig(0, http, config.tcp());
  }

  /** Sends runtime commands; false (and a log line) if HAProxy refused any. */
  private boolean send(List<String> commands) {
    if (commands.isEmpty()) {
      return true;
    }
    try {
      for (int i = 0; i < commands.size(); i += 100) {
        String answer =
            process.admin().send(commands.subList(i, Math.min(commands.size(), i + 100)));
        for (String line : answer.split("\n")) {
          if (line.startsWith("No such")
              || line.contains("nvalid")
              || line.contains("equire")
              || line.startsWith("Unknown")
              || line.contains("failed")) {
            LOG.warn("runtime API refused a change ({}); reloading instead", line.strip());
            return false;
          }
        }
      }
      return true;
    } catch (IOException e) {
      LOG.warn("runtime API unreachable ({}); reloading instead", e.getMessage());
      return false;
    }
  }

  /**
   * Re-renders haproxy.cfg with the current slots, so that a restart keeps runtime changes; in the
   * background, after the changes have been quiet a moment (see {@link #persister}).
   */
  private void persist(ProxyConfig effective) {
    long now = System.nanoTime();
    synchronized (configFileLock) {
      long first = unwritten == null ? now : unwritten.first();
      unwritten =
          new Unwritten(
              effective, slots, Generation.dir(settings.stateDir(), generation), first, now);
    }
    persister.schedule(this::writeIfDue, PERSIST_QUIET.toMillis(), TimeUnit.MILLISECONDS);
  }

  private void writeIfDue() {
    synchronized (configFileLock) {
      long now = System.nanoTime();
      if (unwritten != null
          && (now - unwritten.last() >= PERSIST_QUIET.toNanos()
              || now - unwritten.first() >= PERSIST_MAX_DELAY.toNanos())) {
        writeUnwritten();
      }
    }
  }

  /** Writes the state not yet in haproxy.cfg, if there is one: now, whatever the timers say. */
  private void writeUnwritten() {
    synchronized (configFileLock) {
      Unwritten u = unwritten;
      if (u == null) {
        return;
      }
      unwritten = null;
      try {
        Plan plan = Plan.build(u.config(), u.slots(), settings, u.dir());
        Generation.writeAtomically(configFile, renderer.render(plan));
      } catch (IOException | RuntimeException e) {
        LOG.error(
            "could not write {}: {}; HAProxy serves the change, a restart would not",
            configFile,
            e.getMessage());
      }
    }
  }

  /** A rendered, written and checked generation that is not live yet. */
  private record Candidate(
      ProxyConfig config, Slots slots, Path file, String text, HaproxyProcess.Check check) {}

  private Candidate prepare(ProxyConfig config, long number) throws ProxyException {
    Path dir = Generation.dir(settings.stateDir(), number);
    Slots fresh = Slots.fresh(servers(config));
    Plan plan = Plan.build(config, fresh, settings, dir);
    String text = renderer.render(plan);
    Path file = dir.resolve("haproxy.cfg");
    try {
      Generation.writeFiles(dir, plan);
      Generation.writeAtomically(file, text);
    } catch (IOException e) {
      throw new ProxyException("cannot write generation " + dir + ": " + e.getMessage(), e);
    }
    return new Candidate(config, fresh, file, text, process.check(file));
  }

  private void commit(Candidate c) throws ProxyException {
    synchronized (configFileLock) {
      unwritten = null;
      try {
        Generation.writeAtomically(configFile, c.text());
      } catch (IOException e) {
        throw new ProxyException("cannot write " + configFile + ": " + e.getMessage(), e);
      }
    }
  }

  private ApplyResult reload(ProxyConfig desired) throws ProxyException {
    long number = ++generation;
    ProxyConfig candidate = desired;
    List<Problem> problems = new ArrayList<>();
    Set<ServiceName> culprits = new TreeSet<>();
    Candidate c = prepare(candidate, number);
    while (!c.check().valid()) {
      Set<ServiceName> found = culprits(candidate, c);
      if (found.isEmpty()) {
        generation--;
        String alert = HaproxyProcess.firstAlert(c.check().output());
        LOG.error("HAProxy refused the whole config; the last good one keeps serving: {}", alert);
        return new ApplyResult(
            Outcome.REJECTED,
            applied == null ? 0 : applied.revision(),
            List.of(Problem.leftOut("", "", "HAProxy refused the config: " + alert)),
            alert);
      }
      for (ServiceName name : found) {
        problems.add(
            Problem.leftOut(
                keyOf(candidate, name),
                "",
                "HAProxy refused it: " + HaproxyProcess.firstAlert(c.check().output())));
      }
      culprits.addAll(found);
      candidate = candidate.without(found);
      c = prepare(candidate, number);
    }
    commit(c);
    if (process.masterAlive()) {
      process.reload();
    } else {
      process.start(configFile);
    }
    slots = c.slots();
    setAside = culprits;
    setAsideProblems = List.copyOf(problems);
    lastDesired = desired;
    applied = candidate;
    try {
      Generation.prune(settings.stateDir(), List.of(number, number - 1));
    } catch (IOException e) {
      LOG.warn("could not remove old generations: {}", e.getMessage());
    }
    return new ApplyResult(
        Outcome.RELOADED,
        desired.revision(),
        problems,
        "reloaded with "
            + candidate.http().size()
            + " HTTP and "
            + candidate.tcp().size()
            + " TCP services");
  }

  /** The services the check's error lines point into, or, failing that, one found by halving. */
  private Set<ServiceName> culprits(ProxyConfig config, Candidate c) throws ProxyException {
    Set<ServiceName> found = new TreeSet<>();
    String[] lines = c.text().split("\n", -1);
    Matcher m = ALERT_LINE.matcher(c.check().output());
    while (m.find()) {
      int line = Integer.parseInt(m.group(1));
      for (int i = Math.min(line, lines.length) - 1; i >= 0; i--) {
        String header = lines[i];
        if (!header.isEmpty() && !Character.isWhitespace(header.charAt(0))) {
          sectionService(header).ifPresent(found::add);
          break;
        }
      }
    }
    for (HttpService s : config.http()) {
      s.certificate()
          .filter(cert -> c.check().output().contains(cert.fingerprint()))
          .ifPresent(cert -> found.add(s.name()));
    }
    found.retainAll(allNames(config));
    return found.isEmpty() ? bisect(config, c) : found;
  }

  private Set<ServiceName> bisect(ProxyConfig config, Candidate failed) throws ProxyException {
    List<ServiceName> names = new ArrayList<>(allNames(config));
    long scratch = generation + 1000;
    try {
      if (!prepare(config.without(new HashSet<>(names)), scratch).check().valid()) {
        return Set.of();
      }
      while (names.size() > 1) {
        List<ServiceName> half = names.subList(0, names.size() / 2);
        boolean goodWithoutHalf =
            prepare(config.without(new HashSet<>(half)), scratch).check().valid();
        names =
            goodWithoutHalf
                ? new ArrayList<>(half)
                : new ArrayList<>(names.subList(names.size() / 2, names.size()));
      }
      return names.isEmpty() ? Set.of() : Set.of(names.get(0));
    } finally {
      try {
        Generation.prune(settings.stateDir(), List.of(generation, generation - 1));
      } catch (IOException e) {
        LOG.warn("could not remove scratch generation: {}", e.getMessage());
      }
    }
  }

  private static Optional<ServiceName> sectionService(String header) {
    String[] words = header.trim().split("\\s+");
    if (words.length < 2) {
      return Optional.empty();
    }
    String section = words[1];
    for (String prefix : List.of("http-", "tcp-", "users-")) {
      if (section.startsWith(prefix)) {
        return Optional.of(new ServiceName(section.substring(prefix.length())));
      }
    }
    return Optional.empty();
  }

  private static Set<ServiceName> allNames(ProxyConfig config) {
    Set<ServiceName> names = new TreeSet<>();
    config.http().forEach(s -> names.add(s.name()));
    config.tcp().forEach(s -> names.add(s.name()));
    return names;
  }

  private static String keyOf(ProxyConfig config, ServiceName name) {
    return config.httpService(name).isPresent() ? "services/" + name : "tcp-services/" + name;
  }

  static Map<String, List<Backend>> servers(ProxyConfig config) {
    Map<String, List<Backend>> servers = new TreeMap<>();
    for (HttpService s : config.http()) {
      servers.put(Plan.httpBackendName(s), s.backends());
    }
    for (TcpService s : config.tcp()) {
      servers.put(Plan.tcpListenName(s), s.backends());
    }
    return servers;
  }

  /** Stops HAProxy (its master, by the PID in this state directory's pid file). */
  synchronized void stopProxy() {
    close();
    process.stop();
  }

  @Override
  public void close() {
    supervisor.shutdownNow();
    writeUnwritten();
    persister.shutdownNow();
  }
}
