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
   * addr}) come at the same severity as a success, and only HAProxy's own state tells.
   */
  boolean servers(List<Slots.Change> changes) {
    List<String> commands = new ArrayList<>();
    for (Slots.Change c : changes) {
      String server = c.backend() + "/" + c.serverName();
      if (c.server().isPresent()) {
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
   * The {@code add map}/{@code del map} commands that turn the maps {@code before} into {@code
   * after} (file name to lines), for map files in {@code mapsDir}; empty when a line would have to
   * be added to any map but the exact-host one: HAProxy tries prefix, suffix and regex entries in
   * file order, and {@code add map} appends.
   */
  static Optional<List<String>> mapCommands(
      Path mapsDir, Map<String, List<String>> before, Map<String, List<String>> after) {
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
          line -> commands.add("del map " + mapsDir.resolve(file) + " " + line.split(" ")[0]));
      added.forEach(line -> commands.add("add map " + mapsDir.resolve(file) + " " + line));
    }
    return Optional.of(commands);
  }

  /**
   * Sends commands in batches, each after {@code set severity-output number}; false (and a log
   * line) at the first answer of severity error or worse.
   */
  boolean send(List<String> commands) {
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
