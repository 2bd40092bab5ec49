package io.haproxyconfd.adapters.haproxy;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
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
        new RuntimeUpdates.MapChange(
            List.of(
                "add map /state/gen/7/maps/host.map b.example.org http-web",
                "del map /state/gen/7/maps/host.map a.example.org",
                "del map /state/gen/7/maps/wildcard.map .example.net"),
            java.util.Set.of(),
            List.of()),
        RuntimeUpdates.mapChange(
            MAPS,
            maps(List.of("a.example.org http-web"), List.of(".example.net http-web")),
            maps(List.of("b.example.org http-web"), List.of())));
  }

  @Test
  void a_host_that_moves_to_another_service_is_set_in_place() {
    assertEquals(
        new RuntimeUpdates.MapChange(
            List.of("set map /state/gen/7/maps/host.map a.example.org http-api"),
            java.util.Set.of(),
            List.of()),
        RuntimeUpdates.mapChange(
            MAPS,
            maps(List.of("a.example.org http-web"), List.of()),
            maps(List.of("a.example.org http-api"), List.of())),
        "no moment without the host: a del and an add would leave one, the other way round the"
            + " del would take out the entry just added");
  }

  @Test
  void a_line_added_to_a_map_tried_in_order_replaces_it_whole_to_an_exact_or_prefix_map_is_added() {
    for (Plan.MapFile m : Plan.MapFile.values()) {
      Map<String, List<String>> before = maps(List.of(), List.of());
      Map<String, List<String>> after = new LinkedHashMap<>(before);
      after.put(m.file, List.of("key http-web"));
      RuntimeUpdates.MapChange change = RuntimeUpdates.mapChange(MAPS, before, after);
      if (m.converter.equals("map") || m.converter.equals("map_beg")) {
        assertEquals(
            new RuntimeUpdates.MapChange(
                List.of("add map /state/gen/7/maps/" + m.file + " key http-web"),
                java.util.Set.of(),
                List.of()),
            change,
            m.file + ": exact keys, or prefixes looked up longest first whatever their order");
      } else {
        assertEquals(
            new RuntimeUpdates.MapChange(List.of(), java.util.Set.of(m.file), List.of()),
            change,
            m.file + ": add map appends, and an entry's place in the file decides which wins");
      }
    }
  }

  @Test
  void a_map_tried_in_order_that_gains_a_line_is_replaced_whole_the_others_changed_by_line() {
    RuntimeUpdates.MapChange change =
        RuntimeUpdates.mapChange(
            MAPS,
            maps(List.of("a.example.org http-web"), List.of(".example.org http-wild")),
            maps(List.of("b.example.org http-web"), List.of(".api.example.org http-api")));
    assertEquals(java.util.Set.of(Plan.MapFile.WILDCARD.file), change.replaced());
    assertEquals(
        List.of(
            "add map /state/gen/7/maps/host.map b.example.org http-web",
            "del map /state/gen/7/maps/host.map a.example.org"),
        change.commands(),
        "no line-by-line change of the map that is replaced whole");
  }

  /**
   * A prefix its backend takes off is in place before a route leads there with it, and goes only
   * after the last such route: added first, deleted last, after the maps replaced whole.
   */
  @Test
  void a_prefix_taken_off_is_added_before_its_routes_and_deleted_after_them() {
    RuntimeUpdates.MapChange change =
        routeAndCutMoved(
            Plan.MapFile.PATH_REGEX, "^/old/", "^/new/", List.of("a.example.org http-a"));
    assertEquals(
        List.of(
            "add map /state/gen/7/maps/strip.map http-b/new http-b/new",
            "del map /state/gen/7/maps/host.map a.example.org"),
        change.commands());
    assertEquals(java.util.Set.of(Plan.MapFile.PATH_REGEX.file), change.replaced());
    assertEquals(List.of("del map /state/gen/7/maps/strip.map http-b/old"), change.last());
  }

  /** The same with a path prefix, whose map changes line by line: the cut first and last. */
  @Test
  void a_prefix_taken_off_comes_before_its_prefix_route_and_goes_after_it() {
    RuntimeUpdates.MapChange change =
        routeAndCutMoved(Plan.MapFile.PATH, "/old", "/new", List.of());
    assertEquals(
        List.of(
            "add map /state/gen/7/maps/strip.map http-b/new http-b/new",
            "add map /state/gen/7/maps/path.map /new http-b",
            "del map /state/gen/7/maps/path.map /old"),
        change.commands());
    assertEquals(java.util.Set.of(), change.replaced());
    assertEquals(List.of("del map /state/gen/7/maps/strip.map http-b/old"), change.last());
  }

  /** http-b's route in {@code file} moved from {@code from} to {@code to}, its cut with it. */
  private static RuntimeUpdates.MapChange routeAndCutMoved(
      Plan.MapFile file, String from, String to, List<String> hostsBefore) {
    Map<String, List<String>> before = maps(hostsBefore, List.of());
    before.put(Plan.STRIP_MAP, List.of("http-b/old http-b/old"));
    before.put(file.file, List.of(from + " http-b"));
    Map<String, List<String>> after = maps(List.of(), List.of());
    after.put(Plan.STRIP_MAP, List.of("http-b/new http-b/new"));
    after.put(file.file, List.of(to + " http-b"));
    return RuntimeUpdates.mapChange(MAPS, before, after);
  }

  @Test
  void a_value_the_command_line_would_split_or_unescape_is_not_sent() {
    assertEquals(true, RuntimeUpdates.carriable("add map /m/path.map /a,b=c:d@e http-web"));
    assertEquals(false, RuntimeUpdates.carriable("add map /m/path.map /a;quit http-web"));
    assertEquals(false, RuntimeUpdates.carriable("add map /m/path_reg.map ^/a\\d http-web"));
  }
}
