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
import io.haproxyconfd.ports.DaemonThreads;
import io.haproxyconfd.ports.ProxyConfigurator;
import io.haproxyconfd.ports.ProxyException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
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

  private final HaproxySettings settings;
  private final HaproxyProcess process;
  private final Renderer renderer;
  private final Path configFile;
  private final ScheduledExecutorService supervisor =
      Executors.newSingleThreadScheduledExecutor(DaemonThreads.named("haproxy-supervisor"));

  /**
   * Writes haproxy.cfg after runtime changes, off the apply path: once changes have been quiet for
   * {@link #PERSIST_QUIET}, or at the latest {@link #PERSIST_MAX_DELAY} after the first unwritten
   * one. A burst of backend changes is rendered once, and no render competes for the CPU with the
   * requests that a change has just redirected. HAProxy restarted in between is started on a config
   * written from the current state first ({@link #supervise()}).
   */
  private final ScheduledExecutorService persister =
      Executors.newSingleThreadScheduledExecutor(DaemonThreads.named("haproxy-cfg-writer"));

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

  /**
   * Services HAProxy refused, by the version it refused. Each stays out (or on its earlier version)
   * only while its keys give that same version: a changed or deleted service is tried again at
   * once.
   */
  private Map<ServiceName, Refused> refused = Map.of();

  /** A refused version, why, and the earlier version serving instead, if HAProxy accepted one. */
  private record Refused(
      String key, Optional<Record> version, String reason, Optional<ProxyConfig> earlier) {}

  private Slots slots = Slots.empty();
  private long generation;
  private String cookieKey;
  private final long openFilesLimit = HaproxyProcess.openFilesLimit();
  private AccessLog accessLog;

  /** Set when supervision ends: no restart of HAProxy after it. */
  private volatile boolean closed;

  private boolean saidEmptySlotsUnchecked;

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
      cookieKey = CookieKey.of(settings);
      accessLog =
          AccessLog.start(
              AccessLog.fifo(run),
              settings.serving().accessLog() == HaproxySettings.AccessLog.JSON,
              System.out);
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
    // A check that waited for the lock while HAProxy was being stopped must not start it again.
    if (closed || process.masterAlive()) {
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
      return new ApplyResult(Outcome.UNCHANGED, desired.revision(), refusedProblems(), "no change");
    }
    Set<ServiceName> retried = forgetChangedRefusals(desired);
    ProxyConfig effective = withoutRefused(desired);
    if (applied != null) {
      ConfigChange change = ConfigChange.between(applied, effective);
      if (change.kind() == ConfigChange.Kind.NONE) {
        return remember(
            desired,
            effective,
            new ApplyResult(Outcome.UNCHANGED, desired.revision(), refusedProblems(), "no change"));
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
                Outcome.RUNTIME_UPDATE, desired.revision(), refusedProblems(), runtime.get()));
      }
    }
    return reload(desired, effective, retried);
  }

  /** Drops the refusals whose service has changed or gone; returns the names of those. */
  private Set<ServiceName> forgetChangedRefusals(ProxyConfig desired) {
    Set<ServiceName> changed = new TreeSet<>();
    Map<ServiceName, Refused> still = new TreeMap<>();
    refused.forEach(
        (name, r) -> {
          if (r.version().equals(version(desired, name))) {
            still.put(name, r);
          } else {
            changed.add(name);
          }
        });
    refused = still;
    return changed;
  }

  /** The desired config without the refused services, or with their earlier versions. */
  private ProxyConfig withoutRefused(ProxyConfig desired) {
    ProxyConfig effective = desired.without(refused.keySet());
    for (var e : refused.entrySet()) {
      if (e.getValue().earlier().isPresent()) {
        effective = effective.replacing(e.getKey(), e.getValue().earlier().get()).orElse(effective);
      }
    }
    return effective;
  }

  private static Optional<Record> version(ProxyConfig config, ServiceName name) {
    Optional<Record> http = config.httpService(name).map(s -> s);
    return http.isPresent() ? http : config.tcpService(name).map(s -> s);
  }

  private List<Problem> refusedProblems() {
    List<Problem> problems = new ArrayList<>();
    refused.forEach(
        (name, r) ->
            problems.add(
                new Problem(
                    r.key(),
                    "",
                    r.reason(),
                    r.earlier().isPresent()
                        ? Problem.Effect.LAST_GOOD_KEPT
                        : Problem.Effect.SERVICE_LEFT_OUT)));
    return problems;
  }

  /** The key of a service's folder, as problems name it. */
  private static String keyOf(ProxyConfig config, ServiceName name) {
    return (config.tcpService(name).isPresent() ? "tcp-services/" : "services/") + name;
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
    if (!send(commands) || !holds(update.get().changes())) {
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

  /**
   * Sends runtime commands; false (and a log line) if HAProxy refused any. Each connection first
   * asks for numbered severities, so that a refusal is told by its code ({@code [3]: No such
   * server.}: 0-3 are emergency to error), not by its wording.
   */
  private boolean send(List<String> commands) {
    if (commands.isEmpty()) {
      return true;
    }
    try {
      for (int i = 0; i < commands.size(); i += 100) {
        List<String> batch = new ArrayList<>();
        batch.add("set severity-output number");
        batch.addAll(commands.subList(i, Math.min(commands.size(), i + 100)));
        if (LOG.isDebugEnabled()) {
          batch.forEach(command -> LOG.debug("runtime API: {}", command));
        }
        Optional<String> refusal = refusal(process.admin().send(batch));
        if (refusal.isPresent()) {
          LOG.warn("runtime API refused a change ({}); reloading instead", refusal.get());
          return false;
        }
      }
      return true;
    } catch (IOException e) {
      LOG.warn("runtime API unreachable ({}); reloading instead", e.getMessage());
      return false;
    }
  }

  /**
   * The first line of an answer whose severity is error or worse ({@code [0]:} to {@code [3]:}).
   */
  static Optional<String> refusal(String answer) {
    for (String line : answer.split("\n")) {
      if (line.matches("\\[[0-3]\\]:.*")) {
        return Optional.of(line.strip());
      }
    }
    return Optional.empty();
  }

  /**
   * Reads back from HAProxy the slots a runtime update changed: some refusals ({@code Invalid
   * addr}) come at the same severity as a success, and only HAProxy's own state tells.
   */
  private boolean holds(List<Slots.Change> changes) {
    Map<String, List<ServerStates.Server>> held = new TreeMap<>();
    try {
      for (Slots.Change c : changes) {
        if (!held.containsKey(c.backend())) {
          held.put(
              c.backend(),
              ServerStates.parse(process.admin().send("show servers state " + c.backend())));
        }
        Optional<ServerStates.Server> server =
            held.get(c.backend()).stream().filter(s -> s.name().equals(c.serverName())).findFirst();
        if (server.isEmpty() || !server.get().holds(c.server())) {
          LOG.warn(
              "HAProxy holds {} in {}/{} after a runtime change to {}; reloading instead",
              server
                  .map(s -> s.address() + ":" + s.port() + " (admin state " + s.adminState() + ")")
                  .orElse("no server"),
              c.backend(),
              c.serverName(),
              c.server().map(Backend::toString).orElse("an empty slot"));
          return false;
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
        Plan plan = Plan.build(u.config(), u.slots(), settings, cookieKey, openFilesLimit, u.dir());
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
      ProxyConfig config, Slots slots, Path file, String text, HaproxyProcess.Check check) {
    RefusalSearch.Trial trial() {
      return new RefusalSearch.Trial(check.valid(), text, check.output());
    }
  }

  /**
   * The check's verdict, and when HAProxy accepts the config, whether the TCP ports new to it can
   * be bound (see {@link BindProbe}): a port another process holds is a refusal of its service.
   */
  private RefusalSearch.Trial probed(Candidate c) {
    RefusalSearch.Trial trial = c.trial();
    if (!trial.valid() || c.config().tcp().isEmpty()) {
      return trial;
    }
    Set<Integer> held;
    synchronized (configFileLock) {
      try {
        // What HAProxy runs (or ran, when adopted after a restart of the daemon).
        held =
            Files.exists(configFile)
                ? BindProbe.boundPorts(Files.readString(configFile))
                : Set.of();
      } catch (IOException e) {
        return trial; // nothing to compare with: HAProxy's reload will tell
      }
    }
    return BindProbe.alert(
            c.text(), c.file().toString(), c.config().tcp(), held, settings.bindAddress())
        .map(alert -> new RefusalSearch.Trial(false, c.text(), alert + "\n"))
        .orElse(trial);
  }

  private Candidate prepare(ProxyConfig config, long number) throws ProxyException {
    Path dir = Generation.dir(settings.stateDir(), number);
    Slots fresh = Slots.fresh(servers(config));
    Plan plan = Plan.build(config, fresh, settings, cookieKey, openFilesLimit, dir);
    if (!saidEmptySlotsUnchecked
        && !Plan.canCheckEmptySlots(fresh, config.tcp().size() + 3, openFilesLimit)) {
      saidEmptySlotsUnchecked = true;
      LOG.warn(
          "{} server slots exceed what the open-files limit ({}) lets HAProxy health-check: empty"
              + " slots are declared without checks, so a server added through the runtime API is"
              + " checked from the next reload on. Raise the limit (ulimit -n) to check them at"
              + " once.",
          fresh.total(),
          openFilesLimit);
    }
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

  /**
   * Renders, checks and reloads {@code effective}. Services HAProxy refuses are found and left out
   * (or kept on the version that serves now); the rest is applied.
   */
  private ApplyResult reload(ProxyConfig desired, ProxyConfig effective, Set<ServiceName> retried)
      throws ProxyException {
    long number = ++generation;
    Candidate[] last = new Candidate[1];
    RefusalSearch.Result search =
        RefusalSearch.search(
            effective,
            applied == null ? ProxyConfig.EMPTY : applied,
            config -> {
              last[0] = prepare(config, number);
              return probed(last[0]);
            });
    if (search.wholeConfig().isPresent()) {
      generation--;
      String why = search.wholeConfig().get();
      LOG.error("{}; the last good config keeps serving", why);
      return new ApplyResult(
          Outcome.REJECTED,
          applied == null ? 0 : applied.revision(),
          List.of(Problem.leftOut("", "", why)),
          why);
    }
    Candidate c = last[0];
    commit(c);
    if (process.masterAlive()) {
      process.reload();
    } else {
      process.start(configFile);
    }
    slots = c.slots();
    Map<ServiceName, Refused> now = new TreeMap<>(refused);
    search
        .refused()
        .forEach(
            (name, reason) ->
                now.put(
                    name,
                    new Refused(
                        keyOf(effective, name),
                        version(effective, name),
                        reason,
                        search.kept().contains(name)
                            ? Optional.of(applied.without(otherThan(applied, name)))
                            : Optional.empty())));
    refused = now;
    retried.stream()
        .filter(name -> !refused.containsKey(name) && version(desired, name).isPresent())
        .forEach(
            name -> LOG.info("{} is accepted by HAProxy and served again", keyOf(desired, name)));
    lastDesired = desired;
    applied = search.accepted();
    try {
      Generation.prune(settings.stateDir(), List.of(number, number - 1));
    } catch (IOException e) {
      LOG.warn("could not remove old generations: {}", e.getMessage());
    }
    return new ApplyResult(
        Outcome.RELOADED,
        desired.revision(),
        refusedProblems(),
        "reloaded with "
            + applied.http().size()
            + " HTTP and "
            + applied.tcp().size()
            + " TCP services");
  }

  /** Every service name of {@code config} but {@code keep}. */
  private static Set<ServiceName> otherThan(ProxyConfig config, ServiceName keep) {
    Set<ServiceName> names = new TreeSet<>();
    config.http().forEach(s -> names.add(s.name()));
    config.tcp().forEach(s -> names.add(s.name()));
    names.remove(keep);
    return names;
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
    closed = true;
    if (accessLog != null) {
      accessLog.close();
    }
    supervisor.shutdownNow();
    writeUnwritten();
    persister.shutdownNow();
  }
}
