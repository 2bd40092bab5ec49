package io.haproxyconfd.adapters.haproxy;

import io.haproxyconfd.domain.Backend;
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
 * exists, so unchanged servers are never touched.
 */
final class Slots {
  static final int MIN_SLOTS = 4;

  private final Map<String, List<Optional<Backend>>> table;

  private Slots(Map<String, List<Optional<Backend>>> table) {
    this.table = table;
  }

  static Slots empty() {
    return new Slots(new TreeMap<>());
  }

  /**
   * How many slots a backend with this many servers gets: twice as many, at least 4, a power of 2.
   */
  static int sizeFor(int servers) {
    int wanted = Math.max(MIN_SLOTS, servers * 2);
    return Integer.highestOneBit(wanted - 1) << 1;
  }

  /** A fresh table for a reload: each backend's servers in order, sized with headroom. */
  static Slots fresh(Map<String, List<Backend>> servers) {
    Map<String, List<Optional<Backend>>> table = new TreeMap<>();
    servers.forEach(
        (name, list) -> {
          List<Optional<Backend>> slots =
              new ArrayList<>(Collections.nCopies(sizeFor(list.size()), Optional.empty()));
          for (int i = 0; i < list.size(); i++) {
            slots.set(i, Optional.of(list.get(i)));
          }
          table.put(name, slots);
        });
    return new Slots(table);
  }

  /** How many slots there are in all, filled or empty. */
  int total() {
    return table.values().stream().mapToInt(List::size).sum();
  }

  List<Optional<Backend>> of(String backend) {
    return table.getOrDefault(backend, List.of());
  }

  /** One change of one slot, to be sent through the runtime API. */
  record Change(String backend, int slot, Optional<Backend> server) {
    /** The server name in the config: {@code s1} is slot 0. */
    String serverName() {
      return "s" + (slot + 1);
    }
  }

  /**
   * Moves the backends named in {@code changed} to new server sets, keeping every unchanged server
   * in its slot; the other backends keep theirs. The work is in proportion to {@code changed}.
   *
   * @return the new table and the slot changes, or empty when a backend has too few slots (then a
   *     reload with a fresh table is needed) or is unknown
   */
  Optional<Update> update(Map<String, List<Backend>> changed) {
    Map<String, List<Optional<Backend>>> next = new TreeMap<>(table);
    List<Change> changes = new ArrayList<>();
    for (var e : changed.entrySet()) {
      List<Optional<Backend>> current = table.get(e.getKey());
      if (current == null || e.getValue().size() > current.size()) {
        return Optional.empty();
      }
      Set<Backend> wanted = new HashSet<>(e.getValue());
      List<Optional<Backend>> slots = new ArrayList<>(current);
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
          changes.add(new Change(e.getKey(), slot, Optional.of(b)));
        }
      }
      freed.forEach(i -> changes.add(new Change(e.getKey(), i, Optional.empty())));
      next.put(e.getKey(), slots);
    }
    return Optional.of(new Update(new Slots(next), changes));
  }

  record Update(Slots slots, List<Change> changes) {}
}
