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
 * @param servers backend name to the endpoints of its filled slots ({@code 10.0.0.1:8080})
 * @param maps map file name ({@code host.map}) to its entries, {@code key value}, in HAProxy's
 *     order
 */
public record HaproxyView(Map<String, Set<String>> servers, Map<String, List<String>> maps) {
  private static final Pattern MAP_FILE = Pattern.compile("^\\d+ \\(([^)]+)\\) .*used by map");

  public static HaproxyView of(Path stateDir) throws IOException {
    HaproxySocket socket = new HaproxySocket(stateDir);
    Map<String, Set<String>> servers = new TreeMap<>();
    for (HaproxySocket.Server s : socket.servers()) {
      Set<String> filled = servers.computeIfAbsent(s.backend(), b -> new TreeSet<>());
      if (s.filled()) {
        filled.add(s.endpoint());
      }
    }
    Map<String, List<String>> maps = new TreeMap<>();
    for (String line : socket.send("show map").split("\n")) {
      Matcher m = MAP_FILE.matcher(line);
      if (!m.find()) {
        continue;
      }
      String file = m.group(1);
      String name = Path.of(file).getFileName().toString();
      if (maps.containsKey(name)) {
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
      maps.put(name, entries);
    }
    return new HaproxyView(servers, maps);
  }

  public static HaproxyView of(DaemonProcess d) throws IOException {
    return of(d.stateDir);
  }

  /** The entries of one map as a set, empty if HAProxy has no such map. */
  public Set<String> map(String name) {
    return new TreeSet<>(maps.getOrDefault(name, List.of()));
  }
}
