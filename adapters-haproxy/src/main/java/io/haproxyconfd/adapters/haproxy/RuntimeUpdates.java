package io.haproxyconfd.adapters.haproxy;

import io.haproxyconfd.domain.Backend;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Changes HAProxy makes without a reload, through its runtime API: servers put into or taken out of
 * their slots, and lines added to or removed from its maps. Each says false (and logs why) when
 * HAProxy did not take the change, so that the caller reloads instead.
 */
final class RuntimeUpdates {
  private static final Logger LOG = LoggerFactory.getLogger(RuntimeUpdates.class);

  /** Commands per connection: HAProxy reads a line of up to its buffer size (16 kB). */
  private static final int BATCH = 100;

  private final RuntimeApi admin;

  RuntimeUpdates(RuntimeApi admin) {
    this.admin = admin;
  }

  /**
   * Gives each changed slot its server ({@code set server addr}, then {@code state ready}) or
   * empties it ({@code state maint}), then reads the slots back: some refusals ({@code Invalid
   * addr}) come at the same severity as a success, and only HAProxy's own state tells. A new slot
   * is added first ({@code add server}, with {@code addOptions} of its backend, and its check
   * enabled).
   */
  boolean servers(List<Slots.Change> changes, Map<String, String> addOptions) {
    List<String> commands = new ArrayList<>();
    for (Slots.Change c : changes) {
      String server = c.backend() + "/" + c.serverName();
      if (c.added()) {
        Backend b = c.server().orElseThrow();
        String options = addOptions.getOrDefault(c.backend(), "");
        commands.add("add server " + server + " " + b + options);
        if (options.contains(" check")) {
          commands.add("enable health " + server);
        }
        commands.add("set server " + server + " state ready");
      } else if (c.server().isPresent()) {
        Backend b = c.server().get();
        commands.add("set server " + server + " addr " + b.address() + " port " + b.port());
        commands.add("set server " + server + " state ready");
      } else {
        commands.add("set server " + server + " state maint");
      }
    }
    return send(commands) && holds(changes);
  }

  /**
   * How maps change at runtime, in three steps: {@code commands} delete and add lines where order
   * does not matter (exact hosts, path prefixes, and lines that only go); then the maps in {@code
   * replaced}, which gain a line where order decides which entry wins (wildcards, regexes), are
   * replaced whole ({@link #replaceMap}); then {@code last} deletes the prefixes backends no longer
   * take off, once no route leads there with them.
   */
  record MapChange(List<String> commands, Set<String> replaced, List<String> last) {}

  /**
   * Maps where the order of lines decides nothing: exact keys, or prefixes that HAProxy looks up
   * longest first whatever their order ({@code map_beg} indexes its keys in a prefix tree, lines
   * added at runtime included). A prefix route is then a line added, however many there are.
   */
  private static final Set<String> UNORDERED =
      Set.of(
          Plan.MapFile.HOST.file,
          Plan.MapFile.HOST_PATH.file,
          Plan.MapFile.PATH.file,
          Plan.SPARES_MAP,
          Plan.STRIP_MAP);

  /**
   * The steps of a change from {@code before} to {@code after}. Where order does not matter, a key
   * that stays with another value is set in place ({@code set map}), new keys are added, and only
   * then are the keys that go deleted: no request finds a route missing between two commands. A
   * prefix a backend takes off is added before the routes that lead to it and deleted after them,
   * so that no request reaches the backend with its prefix left on.
   */
  static MapChange mapChange(
      Path mapsDir, Map<String, List<String>> before, Map<String, List<String>> after) {
    List<String> commands = new ArrayList<>();
    List<String> stripsGone = new ArrayList<>();
    Set<String> replaced = new TreeSet<>();
    for (String file : after.keySet()) {
      Set<String> removed = new TreeSet<>(before.get(file));
      removed.removeAll(after.get(file));
      Set<String> added = new TreeSet<>(after.get(file));
      added.removeAll(before.get(file));
      if (!added.isEmpty() && !UNORDERED.contains(file)) {
        replaced.add(file);
        continue;
      }
      Set<String> addedKeys = new TreeSet<>();
      added.forEach(line -> addedKeys.add(keyOf(line)));
      Set<String> removedKeys = new TreeSet<>();
      removed.forEach(line -> removedKeys.add(keyOf(line)));
      List<String> sets = new ArrayList<>();
      List<String> adds = new ArrayList<>();
      for (String line : added) {
        if (removedKeys.contains(keyOf(line))) {
          sets.add("set map " + mapsDir.resolve(file) + " " + line);
        } else {
          adds.add("add map " + mapsDir.resolve(file) + " " + line);
        }
      }
      List<String> dels = new ArrayList<>();
      for (String line : removed) {
        if (!addedKeys.contains(keyOf(line))) { // 'del map' deletes every line of its key
          dels.add("del map " + mapsDir.resolve(file) + " " + keyOf(line));
        }
      }
      if (file.equals(Plan.STRIP_MAP)) {
        commands.addAll(0, adds); // a strip line's key is its value: none is set in place
        stripsGone.addAll(dels);
      } else {
        commands.addAll(sets);
        commands.addAll(adds);
        commands.addAll(dels);
      }
    }
    return new MapChange(commands, replaced, stripsGone);
  }

  /** A map line's key: the line up to its first space (no key holds one). */
  private static String keyOf(String line) {
    return line.substring(0, line.indexOf(' '));
  }

  private static final java.util.regex.Pattern NEW_VERSION =
      java.util.regex.Pattern.compile("New version created: (\\d+)");

  /**
   * Replaces a map's whole content atomically, its order included: {@code prepare map} makes a new
   * version, {@code add map @version} fills it while the live one serves, {@code commit map} swaps
   * it in. False (and a log line) if HAProxy refused any step; the live map is then unchanged.
   */
  boolean replaceMap(Path file, List<String> lines) {
    Optional<String> unsafe = lines.stream().filter(l -> !carriable(l)).findFirst();
    if (unsafe.isPresent()) {
      LOG.info(
          "a map line holds ';' or '\\', which HAProxy's command line would split or unescape"
              + " ({}); reloading instead",
          unsafe.get());
      return false;
    }
    String version;
    try {
      RuntimeApi.Answer prepared = admin.sendNumbered(List.of("prepare map " + file));
      Optional<String> found =
          prepared.lines().stream()
              .map(l -> NEW_VERSION.matcher(l.text()))
              .filter(java.util.regex.Matcher::find)
              .map(m -> m.group(1))
              .findFirst();
      if (prepared.refusal().isPresent() || found.isEmpty()) {
        LOG.warn("HAProxy prepared no new version of {} ({}); reloading instead", file, prepared);
        return false;
      }
      version = found.get();
    } catch (IOException e) {
      LOG.warn("runtime API unreachable ({}); reloading instead", e.getMessage());
      return false;
    }
    List<String> adds = new ArrayList<>();
    lines.forEach(line -> adds.add("add map @" + version + " " + file + " " + line));
    return send(adds) && send(List.of("commit map @" + version + " " + file));
  }

  /**
   * Sends commands in batches, each after {@code set severity-output number}; false (and a log
   * line) at the first answer of severity error or worse.
   */
  boolean send(List<String> commands) {
    Optional<String> unsafe = commands.stream().filter(c -> !carriable(c)).findFirst();
    if (unsafe.isPresent()) {
      LOG.info(
          "a value holds ';' or '\\', which HAProxy's command line would split or unescape ({});"
              + " reloading instead",
          unsafe.get());
      return false;
    }
    try {
      for (int i = 0; i < commands.size(); i += BATCH) {
        List<String> batch = commands.subList(i, Math.min(commands.size(), i + BATCH));
        if (LOG.isDebugEnabled()) {
          batch.forEach(command -> LOG.debug("runtime API: {}", command));
        }
        Optional<RuntimeApi.Answer.Line> refusal = admin.sendNumbered(batch).refusal();
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
   * Whether a command reaches HAProxy as it was written: its command line ends a command at ';' and
   * reads '\\' as an escape, and a path or regex from the keys may hold either. Such a change goes
   * by a reload, where the value is in a file, never on a command line.
   */
  static boolean carriable(String command) {
    return command.indexOf(';') < 0 && command.indexOf('\\') < 0 && command.indexOf('\n') < 0;
  }

  private boolean holds(List<Slots.Change> changes) {
    Map<String, List<ServerStates.Server>> held = new TreeMap<>();
    try {
      for (Slots.Change c : changes) {
        if (!held.containsKey(c.backend())) {
          held.put(
              c.backend(), ServerStates.parse(admin.send("show servers state " + c.backend())));
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
}
