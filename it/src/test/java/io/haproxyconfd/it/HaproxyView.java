package io.haproxyconfd.it;

import io.haproxyconfd.adapters.haproxy.HaproxySocket;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What HAProxy itself holds, read from its admin socket: the filled servers of every backend
 * ({@code show servers state}) and the entries of every map ({@code show map}), whatever the daemon
 * says it handed over. Runtime changes are in it; a slot in maintenance is not.
 *
 * <p>A new service served from a spare backend is shown under its own backend's name, as HAProxy's
 * {@code spares.map} says ({@code spare-3 http-new}): its servers, and the map entries that lead to
 * it. Free spares are left out while they hold no server. So a view does not depend on whether a
 * service came by a reload.
 *
 * @param servers backend name to the endpoints of its filled slots ({@code 10.0.0.1:8080})
 * @param maps map file name ({@code host.map}) to its entries, {@code key value}, in HAProxy's
 *     order
 * @param spares the backends served from a spare, and the spare ({@code http-new} to {@code
 *     spare-3})
 */
public record HaproxyView(
    Map<String, Set<String>> servers, Map<String, List<String>> maps, Map<String, String> spares) {
  private static final Pattern MAP_FILE = Pattern.compile("^\\d+ \\(([^)]+)\\) .*used by map");
  private static final String SPARES_MAP = "spares.map";
  private static final String STRIP_MAP = "strip.map";

  public static HaproxyView of(Path stateDir) throws IOException {
    HaproxySocket socket = new HaproxySocket(stateDir);
    Map<String, Set<String>> raw = new TreeMap<>();
    for (HaproxySocket.Server s : socket.servers()) {
      Set<String> filled = raw.computeIfAbsent(s.backend(), b -> new TreeSet<>());
      if (s.filled()) {
        filled.add(s.endpoint());
      }
    }
    Map<String, List<String>> rawMaps = new TreeMap<>();
    for (String line : socket.send("show map").split("\n")) {
      Matcher m = MAP_FILE.matcher(line);
      if (!m.find()) {
        continue;
      }
      String file = m.group(1);
      String name = Path.of(file).getFileName().toString();
      if (rawMaps.containsKey(name)) {
        continue; // one file used by several map converters
      }
      List<String> entries = new ArrayList<>();
      for (String entry : socket.send("show map " + file).split("\n")) {
        // "0x55dcc36bcaf0 key value"
        int space = entry.indexOf(' ');
        if (entry.startsWith("0x") && space > 0) {
          entries.add(entry.substring(space + 1));
        }
      }
      rawMaps.put(name, entries);
    }
    // spare-3 http-new: the spare's servers and entries are http-new's.
    Map<String, String> nameOf = new TreeMap<>();
    Map<String, String> spares = new TreeMap<>();
    for (String entry : rawMaps.getOrDefault(SPARES_MAP, List.of())) {
      String[] words = entry.split(" ");
      nameOf.put(words[0], words[1]);
      spares.put(words[1], words[0]);
    }
    Map<String, Set<String>> servers = new TreeMap<>();
    raw.forEach(
        (backend, endpoints) -> {
          if (nameOf.containsKey(backend)) {
            servers.put(nameOf.get(backend), endpoints);
          } else if (!backend.startsWith("spare-") || !endpoints.isEmpty()) {
            servers.put(backend, endpoints); // a free spare that holds servers is shown
          }
        });
    Map<String, List<String>> maps = new TreeMap<>();
    rawMaps.forEach(
        (file, entries) -> {
          if (file.equals(SPARES_MAP)) {
            return;
          }
          List<String> named = new ArrayList<>();
          for (String entry : entries) {
            if (file.equals(STRIP_MAP)) {
              // spare-3/api spare-3/api: key and value begin with the backend's name.
              String backend = entry.substring(0, entry.indexOf('/'));
              String[] keyValue = entry.split(" ");
              if (!raw.containsKey(backend) || !keyValue[0].equals(keyValue[1])) {
                throw new IllegalStateException(
                    "a strip.map line for no backend HAProxy has, or not its key twice: " + entry);
              }
              String key =
                  nameOf.getOrDefault(backend, backend)
                      + entry.substring(backend.length(), entry.indexOf(' '));
              named.add(key + " " + key);
              continue;
            }
            int space = entry.lastIndexOf(' ');
            String value = entry.substring(space + 1);
            named.add(entry.substring(0, space + 1) + nameOf.getOrDefault(value, value));
          }
          maps.put(file, named);
        });
    return new HaproxyView(servers, maps, spares);
  }

  public static HaproxyView of(DaemonProcess d) throws IOException {
    return of(d.stateDir);
  }

  /** The entries of one map as a set, empty if HAProxy has no such map. */
  public Set<String> map(String name) {
    return new TreeSet<>(maps.getOrDefault(name, List.of()));
  }
}
