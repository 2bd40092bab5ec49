package io.haproxyconfd.adapters.haproxy;

import io.haproxyconfd.domain.Backend;
import io.haproxyconfd.domain.ConfigChange;
import io.haproxyconfd.domain.HttpService;
import io.haproxyconfd.domain.KeyLayout;
import io.haproxyconfd.domain.Problem;
import io.haproxyconfd.domain.ProxyConfig;
import io.haproxyconfd.domain.ServiceName;
import io.haproxyconfd.ports.ApplyResult;
import io.haproxyconfd.ports.ApplyResult.Outcome;
import io.haproxyconfd.ports.ProxyConfigurator;
import io.haproxyconfd.ports.ProxyException;
import io.haproxyconfd.ports.RouteExplanation;
import io.haproxyconfd.ports.ServerHealth;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link ProxyConfigurator} for HAProxy 2.6 in master-worker mode. This class chooses how each
 * change is applied; its parts do the work:
 *
 * <ul>
 *   <li>a change of backends alone goes into pre-allocated server slots, and a change of routes
 *       alone that adds only exact-host entries or removes entries goes into the maps, through the
 *       runtime API ({@link RuntimeUpdates}): no reload;
 *   <li>new services alone, with default settings, each take a spare backend that the last reload
 *       prepared empty: its slots filled and its routes added through the runtime API; the next
 *       reload gives them backends of their own names ({@link Slots} knows who is where);
 *   <li>anything else renders a new {@link Generation} (config, maps, certificates), checks it with
 *       {@code haproxy -c}, moves it over haproxy.cfg ({@link ConfigFile}) and reloads ({@link
 *       Supervisor}). A service HAProxy refuses is found ({@link RefusalSearch}) and left out, or
 *       kept on the version that served before ({@link Refusals});
 *   <li>haproxy.cfg on disk is always the last good config and holds the current addresses, so a
 *       restart or a reload never loses a runtime change.
 * </ul>
 *
 * <p>{@link #close()} leaves HAProxy running, so that a restarted daemon adopts it and traffic
 * never stops; {@link #stop()} stops it. Nothing runs before {@link #start()}: {@link #render} and
 * {@link #check} work on a configurator never started.
 */
final class HaproxyConfigurator implements ProxyConfigurator {
  private static final Logger LOG = LoggerFactory.getLogger(HaproxyConfigurator.class);

  private final HaproxySettings settings;
  private final HaproxyProcess process;
  private final Renderer renderer;
  private final ConfigFile configFile;
  private final Supervisor supervisor;
  private final RuntimeUpdates runtime;
  private final Refusals refusals = new Refusals();
  private final long openFilesLimit = HaproxyProcess.openFilesLimit();

  // Guarded by this object's lock (apply and start are synchronized); slots, an immutable table,
  // is also read without it by health().
  private ProxyConfig applied;
  private ProxyConfig lastDesired;
  private volatile Slots slots = Slots.empty();
  private long generation;
  // Read by render and close from other threads.
  private volatile String cookieKey;
  private volatile AccessLog accessLog;
  private boolean saidEmptySlotsUnchecked;

  /**
   * Set while a runtime change is under way, and left set when it failed partway: HAProxy may then
   * hold some of its commands (a spare filled, a server added) that {@link #slots} does not know.
   * Until a reload has served a whole config again, every change is a reload.
   */
  private boolean runtimeUnsure;

  /** Whether the config HAProxy serves loads the spares map (an operator's template may not). */
  private boolean sparesLoaded;

  private boolean saidSparesNotLoaded;

  private boolean saidStripNotLoaded;

  HaproxyConfigurator(HaproxySettings settings) {
    this.settings = settings;
    this.process = new HaproxyProcess(settings);
    this.renderer = new Renderer(settings.templateDir());
    this.configFile =
        new ConfigFile(
            settings.stateDir().resolve("haproxy.cfg"),
            (config, slots, dir, maps, out) -> {
              if (maps) {
                Generation.writeMaps(dir, Plan.mapContents(config, slots));
              }
              renderer.render(plan(config, slots, cookieKey, dir), out);
            });
    this.supervisor = new Supervisor(process, configFile);
    this.runtime = new RuntimeUpdates(process.admin());
  }

  /** For tests that hold the lifecycle's lock to force a race. */
  Supervisor supervisor() {
    return supervisor;
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
    supervisor.start(
        () -> {
          Candidate empty = prepare(ProxyConfig.EMPTY, ++generation);
          if (!empty.check.valid()) {
            throw new ProxyException(
                "the built-in config is refused: "
                    + HaproxyProcess.firstAlert(empty.check.output()),
                null);
          }
          configFile.commit(empty.text());
        });
  }

  /** With restarts held off: a restart between a runtime change and its write would lose it. */
  @Override
  public synchronized ApplyResult apply(ProxyConfig desired) throws ProxyException {
    return supervisor.exclusive(() -> applyNow(desired));
  }

  private ApplyResult applyNow(ProxyConfig desired) throws ProxyException {
    if (applied != null
        && lastDesired != null
        && ConfigChange.between(lastDesired, desired).kind() == ConfigChange.Kind.NONE) {
      lastDesired = desired;
      return result(Outcome.UNCHANGED, desired, "no change");
    }
    Set<ServiceName> retried = refusals.forgetChanged(desired);
    ProxyConfig effective = refusals.applyTo(desired);
    if (applied != null && !runtimeUnsure) {
      ConfigChange change = ConfigChange.between(applied, effective);
      runtimeUnsure = true;
      Optional<String> done =
          switch (change.kind()) {
            case NONE -> Optional.of("no change");
            case BACKENDS_ONLY -> updateServers(effective, change.servicesWithNewBackends());
            case ROUTES_ONLY -> updateRoutes(effective, change.servicesWithNewRoutes());
            case SERVICES_ADDED -> addToSpares(effective, change.servicesWithNewBackends());
            case STRUCTURAL -> Optional.empty();
          };
      if (done.isPresent()) {
        runtimeUnsure = false;
        lastDesired = desired;
        applied = effective;
        return result(
            change.kind() == ConfigChange.Kind.NONE ? Outcome.UNCHANGED : Outcome.RUNTIME_UPDATE,
            desired,
            done.get());
      }
    }
    return reload(desired, effective, retried);
  }

  private ApplyResult result(Outcome outcome, ProxyConfig desired, String detail) {
    return new ApplyResult(outcome, desired.revision(), refusals.problems(), detail);
  }

  /** New server sets of the {@code changed} services into their slots; empty for a reload. */
  private Optional<String> updateServers(ProxyConfig effective, Set<ServiceName> changed) {
    Optional<Slots.Update> update = slots.update(Plan.servers(effective, changed, slots));
    if (update.isEmpty()
        || !runtime.servers(update.get().changes(), addOptions(effective, changed, slots))) {
      return Optional.empty();
    }
    slots = update.get().slots();
    configFile.later(effective, slots, Generation.dir(settings.stateDir(), generation), false);
    return Optional.of(
        update.get().changes().size() + " server slot(s) changed through the runtime API");
  }

  /**
   * New routes of the {@code rerouted} services into the maps: lines deleted and added where their
   * order does not matter, and a map where it does replaced whole ({@link
   * RuntimeUpdates#mapChange}); the prefixes a backend takes off are map lines too. Empty when a
   * reload is needed: HAProxy refused a step. Only those services' map lines are compared; the map
   * files on disk follow with haproxy.cfg, off the apply path.
   */
  private Optional<String> updateRoutes(ProxyConfig effective, Set<ServiceName> rerouted) {
    List<HttpService> before = new ArrayList<>();
    List<HttpService> after = new ArrayList<>();
    for (ServiceName name : rerouted) {
      before.add(applied.httpService(name).orElseThrow());
      after.add(effective.httpService(name).orElseThrow());
    }
    Path dir = Generation.dir(settings.stateDir(), generation);
    Path maps = dir.resolve("maps");
    RuntimeUpdates.MapChange change =
        RuntimeUpdates.mapChange(
            maps, Plan.mapContents(before, slots), Plan.mapContents(after, slots));
    if (!runtime.send(change.commands())
        || !replaceWhole(maps, change.replaced(), effective, slots)
        || !runtime.send(change.last())) {
      return Optional.empty();
    }
    configFile.later(effective, slots, dir, true);
    return Optional.of(
        (change.commands().size() + change.last().size())
            + " map line(s) changed"
            + (change.replaced().isEmpty() ? "" : ", " + change.replaced() + " replaced whole,")
            + " through the runtime API");
  }

  private Map<String, String> addOptions(ProxyConfig config, Set<ServiceName> named, Slots in) {
    return Plan.addOptions(config, named, in, settings.serving().checkInterval().toMillis());
  }

  /** The maps in {@code files} replaced whole by their lines for {@code config}. */
  private boolean replaceWhole(Path maps, Set<String> files, ProxyConfig config, Slots with) {
    if (files.isEmpty()) {
      return true;
    }
    Map<String, List<String>> whole = Plan.mapContents(config, with, files);
    for (String file : files) {
      if (!runtime.replaceMap(maps.resolve(file), whole.get(file))) {
        return false;
      }
    }
    return true;
  }

  /**
   * New services into free spare backends: each spare's slots filled, then who it serves, then its
   * routes, all through the runtime API. Empty for a reload: a service that needs more than a spare
   * gives (settings of its own, a certificate), too few spares left, a value HAProxy's command line
   * cannot carry, or a step HAProxy refused. The next reload gives each its own backend.
   */
  private Optional<String> addToSpares(ProxyConfig effective, Set<ServiceName> added) {
    if (!sparesLoaded) {
      if (settings.spareBackends() > 0 && !saidSparesNotLoaded) {
        saidSparesNotLoaded = true;
        LOG.info(
            "the config HAProxy serves does not load {} (a haproxy.cfg.ftl of your own?): new"
                + " services are served by a reload",
            Plan.SPARES_MAP);
      }
      return Optional.empty();
    }
    List<String> free = slots.freeSpares();
    if (added.size() > free.size()) {
      if (settings.spareBackends() > 0) {
        LOG.info(
            "{} new service(s) and {} spare backend(s) left: reloading, which prepares {} again",
            added.size(),
            free.size(),
            settings.spareBackends());
      }
      return Optional.empty();
    }
    Slots next = slots;
    List<HttpService> services = new ArrayList<>();
    Map<String, List<Backend>> servers = new TreeMap<>();
    for (ServiceName name : added) {
      HttpService s = effective.httpService(name).orElseThrow();
      if (!Plan.fitsSpare(s)) {
        return Optional.empty();
      }
      String spare = free.get(services.size());
      next = next.hosting(name, spare);
      servers.put(spare, s.backends());
      services.add(s);
    }
    Optional<Slots.Update> update = next.update(servers);
    if (update.isEmpty()) {
      return Optional.empty();
    }
    Slots filled = update.get().slots();
    Path dir = Generation.dir(settings.stateDir(), generation);
    Path maps = dir.resolve("maps");
    RuntimeUpdates.MapChange change =
        RuntimeUpdates.mapChange(
            maps, Plan.mapContents(List.of(), filled), Plan.mapContents(services, filled));
    // What HAProxy's command line cannot carry is known before anything is sent. The maps of all
    // services only when one is replaced whole: a new host is a line added, at any scale.
    if (!change.commands().stream().allMatch(RuntimeUpdates::carriable)
        || !change.last().stream().allMatch(RuntimeUpdates::carriable)) {
      return Optional.empty();
    }
    if (!change.replaced().isEmpty()) {
      Map<String, List<String>> whole = Plan.mapContents(effective, filled, change.replaced());
      if (!change.replaced().stream()
          .allMatch(f -> whole.get(f).stream().allMatch(RuntimeUpdates::carriable))) {
        return Optional.empty();
      }
    }
    // The servers first, then who the spare serves, and only once HAProxy holds that, the routes
    // that lead to it: HAProxy goes on with a line's next command after refusing one.
    List<String> whom = new ArrayList<>();
    List<String> routes = new ArrayList<>();
    change
        .commands()
        .forEach(c -> (c.contains("/" + Plan.SPARES_MAP + " ") ? whom : routes).add(c));
    if ((!update.get().changes().isEmpty()
            && !runtime.servers(update.get().changes(), addOptions(effective, added, filled)))
        || !runtime.send(whom)
        || !runtime.send(routes)
        || !replaceWhole(maps, change.replaced(), effective, filled)
        || !runtime.send(change.last())) {
      return Optional.empty();
    }
    slots = filled;
    configFile.later(effective, slots, dir, true);
    List<String> names = new ArrayList<>();
    services.forEach(s -> names.add(s.name() + " in " + slots.backendOf(s.name(), "")));
    return Optional.of(
        "new service(s) served from spare backends through the runtime API ("
            + String.join(", ", names)
            + "; "
            + (free.size() - services.size())
            + " spare(s) left until the next reload)");
  }

  /**
   * Whether a candidate's config looks a map of its generation up (a converter's argument): an
   * operator's own haproxy.cfg.ftl may not.
   */
  private static boolean loads(Candidate c, String map) {
    return c.text().contains(c.file().resolveSibling("maps").resolve(map) + ")");
  }

  /** A rendered, written and checked generation that is not live yet. */
  private record Candidate(
      ProxyConfig config,
      Slots slots,
      Path file,
      String text,
      HaproxyProcess.Check check,
      long renderMs,
      long checkMs) {}

  /** A config HAProxy was reloaded on, and how long it took to serve it. */
  private record Served(Candidate candidate, long reloadMs) {}

  private Plan plan(ProxyConfig config, Slots slots, String key, Path dir) {
    return Plan.build(config, slots, settings, key, openFilesLimit, dir);
  }

  private Candidate prepare(ProxyConfig config, long number) throws ProxyException {
    return prepare(config, number, true);
  }

  /**
   * The config rendered into generation {@code number}, and unless {@code check} is false, checked.
   */
  private Candidate prepare(ProxyConfig config, long number, boolean check) throws ProxyException {
    Path dir = Generation.dir(settings.stateDir(), number);
    Slots fresh = Slots.fresh(config, settings.spareBackends());
    Plan plan = plan(config, fresh, cookieKey, dir);
    if (!saidEmptySlotsUnchecked
        && !Plan.canCheckEmptySlots(fresh, config.tcp().size() + 3, openFilesLimit)) {
      saidEmptySlotsUnchecked = true;
      LOG.warn(
          "{} server slots exceed what the open-files limit ({}) lets HAProxy health-check: empty"
              + " slots are declared without checks, so a server put into one through the runtime"
              + " API is checked from the next reload on. Raise the limit (ulimit -n) to check them"
              + " at once.",
          fresh.total(),
          openFilesLimit);
    }
    long started = System.nanoTime();
    String text = renderer.render(plan);
    Path file = dir.resolve("haproxy.cfg");
    try {
      Generation.writeFiles(dir, plan);
      Generation.writeAtomically(file, text);
    } catch (IOException e) {
      throw new ProxyException("cannot write generation " + dir + ": " + e.getMessage(), e);
    }
    long rendered = System.nanoTime();
    HaproxyProcess.Check checked =
        check ? process.check(file) : new HaproxyProcess.Check(true, "not checked before");
    return new Candidate(
        config,
        fresh,
        file,
        text,
        checked,
        (rendered - started) / 1_000_000,
        (System.nanoTime() - rendered) / 1_000_000);
  }

  /**
   * The check's verdict, and when HAProxy accepts the config, whether the TCP ports new to it can
   * be bound (see {@link BindProbe}): a port another process holds is a refusal of its service.
   */
  private RefusalSearch.Trial probed(Candidate c) {
    RefusalSearch.Trial trial = new RefusalSearch.Trial(c.check.valid(), c.text, c.check.output());
    if (!trial.valid() || c.config().tcp().isEmpty()) {
      return trial;
    }
    Set<Integer> held;
    try {
      // What HAProxy runs (or ran, when adopted after a restart of the daemon).
      held = configFile.read().map(BindProbe::boundPorts).orElse(Set.of());
    } catch (IOException e) {
      return trial; // nothing to compare with: HAProxy's reload will tell
    }
    return BindProbe.alert(
            c.text(), c.file().toString(), c.config().tcp(), held, settings.bindAddress())
        .map(alert -> new RefusalSearch.Trial(false, c.text(), alert + "\n"))
        .orElse(trial);
  }

  /**
   * Renders and reloads {@code effective}, checked by the reload itself ({@link #reloadUnchecked});
   * if HAProxy refuses it, the services it refuses are found with {@code haproxy -c} and left out
   * (or kept on the version that serves now), and the rest is applied.
   */
  private ApplyResult reload(ProxyConfig desired, ProxyConfig effective, Set<ServiceName> retried)
      throws ProxyException {
    long number = ++generation;
    ProxyConfig before = applied == null ? ProxyConfig.EMPTY : applied;
    Optional<Served> unchecked = reloadUnchecked(effective, number);
    Candidate c;
    RefusalSearch.Result search;
    long servedMs;
    if (unchecked.isPresent()) {
      c = unchecked.get().candidate();
      servedMs = unchecked.get().reloadMs();
      search =
          new RefusalSearch.Result(
              effective,
              new RefusalSearch.Trial(true, c.text(), ""),
              Map.of(),
              Set.of(),
              Optional.empty());
    } else {
      Candidate[] last = new Candidate[1];
      search =
          RefusalSearch.search(
              effective,
              before,
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
      c = last[0];
      long serving = System.nanoTime();
      configFile.commit(c.text());
      supervisor.serveFile();
      servedMs = (System.nanoTime() - serving) / 1_000_000;
    }
    runtimeUnsure = false;
    sparesLoaded = loads(c, Plan.SPARES_MAP);
    if (!saidStripNotLoaded
        && !loads(c, Plan.STRIP_MAP)
        && effective.http().stream().anyMatch(s -> !s.strippedPrefixes().isEmpty())) {
      saidStripNotLoaded = true;
      LOG.warn(
          "the config HAProxy serves does not load {} (a haproxy.cfg.ftl of your own?): url_beg"
              + " prefixes are not taken off the path; see the built-in template's frontend",
          Plan.STRIP_MAP);
    }
    slots = c.slots();
    refusals.record(search, effective, before);
    retried.stream()
        .filter(name -> !refusals.contains(name) && Refusals.version(desired, name).isPresent())
        .forEach(
            name ->
                LOG.info(
                    "{} is accepted by HAProxy and served again",
                    KeyLayout.folderOf(desired, name)));
    lastDesired = desired;
    applied = search.accepted();
    try {
      Generation.prune(settings.stateDir(), List.of(number, number - 1));
    } catch (IOException e) {
      LOG.warn("could not remove old generations: {}", e.getMessage());
    }
    return result(
        Outcome.RELOADED,
        desired,
        "reloaded with "
            + applied.http().size()
            + " HTTP and "
            + applied.tcp().size()
            + " TCP services; render "
            + c.renderMs()
            + (unchecked.isPresent()
                ? " ms, no separate check (HAProxy took it)"
                : " ms, check " + c.checkMs() + " ms")
            + ", reload "
            + servedMs
            + " ms");
  }

  /**
   * Reloads HAProxy on {@code effective} without {@code haproxy -c} first: HAProxy's master parses
   * the config as it re-executes, and if it refuses it, keeps its workers serving what they served
   * ({@link HaproxyProcess#tryReload}). That saves the check's parse of the whole config on every
   * reload HAProxy takes (a sixth of a second at 10,000 services); one it refuses costs a reload
   * more, and goes the checked way, which finds the services to leave out. Empty when HAProxy
   * refused it, is not running, or a TCP port new to it is held by another process (which HAProxy
   * would refuse): the file is then as it was.
   */
  private Optional<Served> reloadUnchecked(ProxyConfig effective, long number)
      throws ProxyException {
    if (!process.masterAlive() || !process.tellsRefusedReloads()) {
      return Optional.empty();
    }
    Candidate c = prepare(effective, number, false);
    if (!probed(c).valid()) {
      return Optional.empty();
    }
    long serving = System.nanoTime();
    Optional<String> previous = configFile.stage(c.text());
    boolean taken;
    try {
      taken = supervisor.reloadIfAccepted();
    } catch (ProxyException | RuntimeException e) {
      // No answer in time: what HAProxy runs is unknown, so the file keeps the new config only if
      // it is one HAProxy can start on, as it would have after a check.
      boolean valid = false;
      try {
        valid = process.check(c.file()).valid();
      } finally {
        if (valid) {
          configFile.accepted();
        } else {
          configFile.restore(previous);
        }
      }
      throw e;
    }
    if (taken) {
      configFile.accepted();
      return Optional.of(new Served(c, (System.nanoTime() - serving) / 1_000_000));
    }
    configFile.restore(previous);
    LOG.info("HAProxy did not load the new config; checking it for the services to leave out");
    return Optional.empty();
  }

  @Override
  public String render(ProxyConfig config) {
    Slots fresh = Slots.fresh(config, settings.spareBackends());
    return renderer.render(
        plan(config, fresh, renderKey(), Generation.dir(settings.stateDir(), 0)));
  }

  @Override
  public Path renderTo(ProxyConfig config, Path dir) throws IOException {
    Files.createDirectories(dir);
    Plan plan =
        plan(
            config,
            Slots.fresh(config, settings.spareBackends()),
            renderKey(),
            dir.toAbsolutePath());
    Generation.writeFiles(dir, plan);
    Path file = dir.resolve("haproxy.cfg");
    Generation.writeAtomically(file, renderer.render(plan));
    return file;
  }

  /** The cookie key in use, or the one on disk for a configurator never started. */
  private String renderKey() {
    return cookieKey != null ? cookieKey : CookieKey.peek(settings);
  }

  /**
   * Runs {@code haproxy -c} on the config in a scratch directory and finds each service it would
   * refuse, by key; nothing is started.
   */
  @Override
  public List<Problem> check(ProxyConfig config) throws ProxyException {
    Path scratch;
    try {
      scratch = Files.createTempDirectory("haproxy-confd-check");
    } catch (IOException e) {
      throw new ProxyException("cannot make a scratch directory: " + e.getMessage(), e);
    }
    try {
      RefusalSearch.Result r =
          RefusalSearch.search(
              config,
              ProxyConfig.EMPTY,
              candidate -> {
                try {
                  Path file = renderTo(candidate, scratch);
                  HaproxyProcess.Check c = process.check(file);
                  return new RefusalSearch.Trial(c.valid(), Files.readString(file), c.output());
                } catch (IOException e) {
                  throw new ProxyException("cannot write to " + scratch + ": " + e.getMessage(), e);
                }
              });
      List<Problem> problems = new ArrayList<>();
      r.wholeConfig().ifPresent(why -> problems.add(Problem.leftOut("", "", why)));
      r.refused()
          .forEach(
              (name, why) ->
                  problems.add(Problem.leftOut(KeyLayout.folderOf(config, name), "", why)));
      return problems;
    } finally {
      try (Stream<Path> files = Files.walk(scratch)) {
        files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
      } catch (IOException e) {
        // A scratch directory left in /tmp harms nothing.
      }
    }
  }

  /**
   * Asks HAProxy ({@code show servers state}, one connection for all) about the backends that serve
   * these services now: a new service's spare, or its own. Empty slots are left out.
   */
  @Override
  public Map<String, List<ServerHealth>> health(Collection<String> services) throws ProxyException {
    Slots table = slots;
    Map<String, String> backendOf = new LinkedHashMap<>();
    for (String key : services) {
      int slash = key.indexOf('/');
      String name = key.substring(slash + 1);
      if (key.startsWith("tcp-services/")) {
        backendOf.put("tcp-" + name, key);
      } else if (key.startsWith("services/")) {
        try {
          backendOf.put(table.backendOf(new ServiceName(name), "http-" + name), key);
        } catch (IllegalArgumentException e) {
          // Not a service name: no backend of HAProxy's can be named after it.
        }
      }
    }
    Map<String, List<ServerHealth>> health = new LinkedHashMap<>();
    if (backendOf.isEmpty()) {
      return health;
    }
    List<String> commands = new ArrayList<>();
    backendOf.keySet().forEach(b -> commands.add("show servers state " + b));
    String answer;
    try {
      answer = process.admin().send(commands);
    } catch (IOException e) {
      throw new ProxyException("HAProxy's runtime API cannot be reached: " + e.getMessage(), e);
    }
    for (ServerStates.Server s : ServerStates.parse(answer)) {
      String key = backendOf.get(s.backend());
      if (key != null && s.filled()) {
        health
            .computeIfAbsent(key, k -> new ArrayList<>())
            .add(
                new ServerHealth(
                    s.name(),
                    s.address(),
                    s.port(),
                    s.state(),
                    Duration.ofSeconds(s.secondsInState())));
      }
    }
    return health;
  }

  @Override
  public RouteExplanation explain(ProxyConfig config, String host, String path) {
    return RouteExplainer.explain(config, host, path);
  }

  /**
   * Stops supervising, then HAProxy, once an apply under way is over; the runtime changes not yet
   * written are written first.
   */
  @Override
  public synchronized void stop() {
    close();
    supervisor.stop();
  }

  @Override
  public void close() {
    supervisor.close();
    AccessLog log = accessLog;
    if (log != null) {
      log.close();
    }
    configFile.close();
  }
}
