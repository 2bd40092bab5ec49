package io.haproxyconfd.adapters.haproxy;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Which map changes the runtime API can make: pure, no HAProxy. */
class RuntimeUpdatesTest {
  private static final Path MAPS = Path.of("/state/gen/7/maps");

  private static Map<String, List<String>> maps(List<String> host, List<String> wildcard) {
    Map<String, List<String>> maps = new LinkedHashMap<>();
    for (Plan.MapFile m : Plan.MapFile.values()) {
      maps.put(m.file, List.of());
    }
    maps.put(Plan.MapFile.HOST.file, host);
    maps.put(Plan.MapFile.WILDCARD.file, wildcard);
    return maps;
  }

  @Test
  void exact_hosts_are_added_and_any_entry_is_removed() {
    assertEquals(
        Optional.of(
            List.of(
                "del map /state/gen/7/maps/host.map a.example.org",
                "add map /state/gen/7/maps/host.map b.example.org http-web",
                "del map /state/gen/7/maps/wildcard.map .example.net")),
        RuntimeUpdates.mapCommands(
            MAPS,
            maps(List.of("a.example.org http-web"), List.of(".example.net http-web")),
            maps(List.of("b.example.org http-web"), List.of())));
  }

  @Test
  void a_line_added_to_a_map_haproxy_walks_in_order_needs_a_reload() {
    assertEquals(
        Optional.empty(),
        RuntimeUpdates.mapCommands(
            MAPS, maps(List.of(), List.of()), maps(List.of(), List.of(".example.net http-web"))),
        "add map appends, and a suffix entry's place in the file decides which service wins");
  }
}
