package io.haproxyconfd.adapters.haproxy;

import io.haproxyconfd.domain.Backend;
import io.haproxyconfd.domain.HttpService;
import io.haproxyconfd.domain.ProxyConfig;
import io.haproxyconfd.domain.ServiceName;
import io.haproxyconfd.domain.SharedMap;
import io.haproxyconfd.domain.TcpService;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * Which server slot of which HAProxy backend holds which address. Slots are pre-allocated with
 * headroom, so that scaling up and down is a runtime-API change; a backend keeps its slot while it
 * exists, so unchanged servers are never touched. A backend HAProxy can add servers to at runtime
 * ({@code add server}: a dynamic balance, no cookie, no lines of the operator's) gets a slot for
 * each server it has (at least one) and grows by new slots: each declared server costs HAProxy
 * memory and reload time, and a scale-up is one {@code add server} more. The others get twice their
 * servers, and a reload when they run out.
 *
 * <p>It also holds which services are served from a spare backend ({@code spare-N}, prepared empty
 * at each reload): a new service takes one through the runtime API and keeps it until the next
 * reload gives it a backend of its own name.
 */
final class Slots {
  static final int MIN_SLOTS = 4;
  static final String SPARE = "spare-";

  /** Shared with the tables before and after, but for the backends that changed between them. */
  private final SharedMap<String, List<Optional<Backend>>> table;

  private final Map<ServiceName, String> hosted;
  private final Set<String> growable;

  private Slots(
      SharedMap<String, List<Optional<Backend>>> table,
      Map<ServiceName, String> hosted,
      Set<String> growable) {
    this.table = table;
    this.hosted = hosted;
    this.growable = growable;
  }

  static Slots empty() {
    return new Slots(SharedMap.empty(), Map.of(), Set.of());
  }

  /**
   * How many slots a backend with this many servers gets: twice as many, at least 4, a power of 2.
   */
  static int sizeFor(int servers) {
    int wanted = Math.max(MIN_SLOTS, servers * 2);
    return Integer.highestOneBit(wanted - 1) << 1;
  }

  /** How many slots a backend that can grow gets: one per server, at least 1. */
  static int sizeFor(int servers, boolean growable) {
    return growable ? Math.max(1, servers) : sizeFor(servers);
  }

  /** A fresh table without spares, where no backend grows. */
  static Slots fresh(Map<String, List<Backend>> servers) {
    return fresh(servers, Set.of(), 0);
  }

  /**
   * A fresh table for a reload: each backend's servers in order, sized with headroom, and {@code
   * spares} empty backends of {@link #MIN_SLOTS} slots, which can grow.
   *
   * @param growable the backends HAProxy can add servers to at runtime
   */
  static Slots fresh(Map<String, List<Backend>> servers, Set<String> growable, int spares) {
    SharedMap.Builder<String, List<Optional<Backend>>> table =
        SharedMap.<String, List<Optional<Backend>>>empty().toBuilder();
    Set<String> grows = new HashSet<>(growable);
    servers.forEach((name, list) -> table.put(name, filled(list, growable.contains(name))));
    addSpares(table, grows, spares);
    return new Slots(table.build(), Map.of(), Set.copyOf(grows));
  }

  /**
   * A fresh table for a reload of {@code config}: as {@link #fresh(Map, Set, int)} with {@link
   * Plan#servers(ProxyConfig)} and {@link Plan#growable(ProxyConfig)}, in one pass over the
   * services (at 10,000 of them the two maps and their copies cost a start 100-170 ms).
   */
  static Slots fresh(ProxyConfig config, int spares) {
    SharedMap.Builder<String, List<Optional<Backend>>> table =
        SharedMap.<String, List<Optional<Backend>>>empty().toBuilder();
    Set<String> grows = new HashSet<>();
    for (HttpService s : config.http()) {
      add(table, grows, Plan.httpBackendName(s), s.backends(), Plan.growable(s));
    }
    for (TcpService s : config.tcp()) {
      add(table, grows, Plan.tcpListenName(s), s.backends(), Plan.growable(s));
    }
    addSpares(table, grows, spares);
    return new Slots(table.build(), Map.of(), Collections.unmodifiableSet(grows));
  }

  private static void add(
      SharedMap.Builder<String, List<Optional<Backend>>> table,
      Set<String> grows,
      String name,
      List<Backend> servers,
      boolean growable) {
    table.put(name, filled(servers, growable));
    if (growable) {
      grows.add(name);
    }
  }

  private static List<Optional<Backend>> filled(List<Backend> servers, boolean growable) {
    int size = sizeFor(servers.size(), growable);
    List<Optional<Backend>> slots = new ArrayList<>(size);
    for (Backend b : servers) {
      slots.add(Optional.of(b));
    }
    while (slots.size() < size) {
      slots.add(Optional.empty());
    }
    return slots;
  }

  private static void addSpares(
      SharedMap.Builder<String, List<Optional<Backend>>> table, Set<String> grows, int spares) {
    for (int i = 1; i <= spares; i++) {
      table.put(SPARE + i, new ArrayList<>(Collections.nCopies(MIN_SLOTS, Optional.empty())));
      grows.add(SPARE + i);
    }
  }

  /** The HAProxy backend that serves a service: its spare, or {@code usual}. */
  String backendOf(ServiceName service, String usual) {
    String spare = hosted.get(service);
    return spare != null ? spare : usual;
  }

  /** The services served from spares, and their spares. */
  Map<ServiceName, String> hosted() {
    return hosted;
  }

  /** The spares no service holds, lowest number first. */
  List<String> freeSpares() {
    List<String> free = spares();
    free.removeAll(hosted.values());
    return free;
  }

  /** The spare backends, held or free, lowest number first. */
  List<String> spares() {
    List<String> spares = new ArrayList<>();
    for (int i = 1; table.containsKey(SPARE + i); i++) {
      spares.add(SPARE + i);
    }
    return spares;
  }

  /** This table with {@code service} served from the free spare {@code spare}. */
  Slots hosting(ServiceName service, String spare) {
    if (!table.containsKey(spare) || hosted.containsValue(spare)) {
      throw new IllegalArgumentException(spare + " is not a free spare");
    }
    Map<ServiceName, String> more = new TreeMap<>(hosted);
    more.put(service, spare);
    return new Slots(table, Map.copyOf(more), growable);
  }

  /** How many slots there are in all, filled or empty. */
  int total() {
    int[] total = {0};
    table.forEach((backend, slots) -> total[0] += slots.size());
    return total[0];
  }

  List<Optional<Backend>> of(String backend) {
    List<Optional<Backend>> slots = table.get(backend);
    return slots == null ? List.of() : slots;
  }

  /**
   * One change of one slot, to be sent through the runtime API.
   *
   * @param added whether the slot is new: HAProxy has no such server yet ({@code add server})
   */
  record Change(String backend, int slot, Optional<Backend> server, boolean added) {
    Change(String backend, int slot, Optional<Backend> server) {
      this(backend, slot, server, false);
    }

    /** The server name in the config: {@code s1} is slot 0. */
    String serverName() {
      return "s" + (slot + 1);
    }
  }

  /**
   * Moves the backends named in {@code changed} to new server sets, keeping every unchanged server
   * in its slot; the other backends keep theirs. The work is in proportion to {@code changed}.
   *
   * @return the new table and the slot changes, or empty when a backend that cannot grow has too
   *     few slots (then a reload with a fresh table is needed) or is unknown
   */
  Optional<Update> update(Map<String, List<Backend>> changed) {
    SharedMap.Builder<String, List<Optional<Backend>>> next = table.toBuilder();
    List<Change> changes = new ArrayList<>();
    for (var e : changed.entrySet()) {
      List<Optional<Backend>> current = table.get(e.getKey());
      if (current == null
          || (e.getValue().size() > current.size() && !growable.contains(e.getKey()))) {
        return Optional.empty();
      }
      Set<Backend> wanted = new HashSet<>(e.getValue());
      List<Optional<Backend>> slots = new ArrayList<>(current);
      while (slots.size() < e.getValue().size()) {
        slots.add(Optional.empty()); // new slots, added to HAProxy by the change that fills them
      }
      List<Integer> freed = new ArrayList<>();
      for (int i = 0; i < slots.size(); i++) {
        if (slots.get(i).isPresent() && !wanted.remove(slots.get(i).get())) {
          slots.set(i, Optional.empty());
          freed.add(i);
        }
      }
      // New servers take the slots just freed first: one change per slot, never two.
      for (Backend b : e.getValue()) {
        if (wanted.contains(b)) {
          int slot = freed.isEmpty() ? slots.indexOf(Optional.empty()) : freed.remove(0);
          slots.set(slot, Optional.of(b));
          changes.add(new Change(e.getKey(), slot, Optional.of(b), slot >= current.size()));
        }
      }
      freed.forEach(i -> changes.add(new Change(e.getKey(), i, Optional.empty())));
      next.put(e.getKey(), slots);
    }
    return Optional.of(new Update(new Slots(next.build(), hosted, growable), changes));
  }

  record Update(Slots slots, List<Change> changes) {}
}
