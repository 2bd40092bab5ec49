package io.haproxyconfd.domain;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class SharedMapTest {

  /** Random puts and removes, checked after each build against a plain map doing the same. */
  @Test
  void holds_what_a_plain_map_holds_and_no_built_map_ever_changes() {
    Random random = new Random(18);
    Map<String, Integer> model = new HashMap<>();
    SharedMap.Builder<String, Integer> builder = SharedMap.<String, Integer>empty().toBuilder();
    List<SharedMap<String, Integer>> built = new ArrayList<>();
    List<Map<String, Integer>> expected = new ArrayList<>();
    for (int round = 0; round < 200; round++) {
      for (int op = 0; op < 1 + random.nextInt(40); op++) {
        String key = "services/s" + random.nextInt(600);
        if (random.nextInt(4) == 0) {
          assertEquals(model.remove(key), builder.remove(key), key);
        } else {
          int value = random.nextInt(3);
          assertEquals(model.put(key, value), builder.put(key, value), key);
        }
      }
      if (random.nextInt(50) == 0) {
        model.clear();
        builder.clear();
      }
      assertEquals(model.size(), builder.size());
      built.add(builder.build());
      expected.add(new HashMap<>(model));
    }
    for (int i = 0; i < built.size(); i++) {
      SharedMap<String, Integer> map = built.get(i);
      Map<String, Integer> want = expected.get(i);
      assertEquals(new TreeMap<>(want), map.toSortedMap(), "map " + i);
      assertEquals(want.size(), map.size());
      assertEquals(want.hashCode(), map.hashCode());
      want.forEach((k, v) -> assertEquals(v, map.get(k)));
      assertNull(map.get("services/none"));
      for (int j = 0; j < built.size(); j++) {
        assertEquals(
            want.equals(expected.get(j)), map.equals(built.get(j)), "map " + i + " against " + j);
      }
    }
  }

  @Test
  void a_change_copies_only_the_chunk_it_falls_in() {
    SharedMap.Builder<String, Integer> b = SharedMap.<String, Integer>empty().toBuilder();
    for (int i = 0; i < 10_000; i++) {
      b.put("services/s" + i, i);
    }
    SharedMap<String, Integer> before = b.build();
    b.put("services/s37", -1);
    SharedMap<String, Integer> after = b.build();
    assertEquals(SharedMap.CHUNKS - 1, after.chunksSharedWith(before));
    assertEquals(37, before.get("services/s37"));
    assertEquals(-1, after.get("services/s37"));
    assertNotEquals(before, after);

    // The same value again: an equal map, though its chunk is a copy.
    b.put("services/s37", 37);
    SharedMap<String, Integer> back = b.build();
    assertEquals(before, back);
    assertEquals(before.hashCode(), back.hashCode());
    assertTrue(back.chunksSharedWith(after) >= SharedMap.CHUNKS - 1);
  }

  @Test
  void equal_content_built_apart_is_equal() {
    Map<String, Integer> plain = new HashMap<>();
    for (int i = 0; i < 1_000; i++) {
      plain.put("k" + i, i);
    }
    SharedMap<String, Integer> a = SharedMap.copyOf(plain);
    SharedMap<String, Integer> b = SharedMap.copyOf(new TreeMap<>(plain));
    assertEquals(a, b);
    assertEquals(plain.hashCode(), b.hashCode());
    assertEquals(emptyChunks(a), a.chunksSharedWith(b), "only empty chunks in common");
    assertThrows(NullPointerException.class, () -> a.toBuilder().put("k", null));
  }

  @Test
  void a_chunk_emptied_or_cleared_takes_keys_again_before_the_next_build() {
    SharedMap.Builder<String, Integer> b = SharedMap.<String, Integer>empty().toBuilder();
    b.put("a", 1);
    SharedMap<String, Integer> first = b.build();
    assertEquals(1, b.remove("a")); // its chunk is empty now
    assertNull(b.remove("a"));
    b.put("a", 2);
    SharedMap<String, Integer> second = b.build();
    assertEquals(1, second.size());
    assertEquals(2, second.get("a"));

    b.put("a", 5);
    b.put("b", 3);
    b.clear();
    b.put("a", 4);
    SharedMap<String, Integer> third = b.build();
    assertEquals(Map.of("a", 4), third.toSortedMap());
    assertEquals(1, first.get("a"), "an earlier map keeps what it had");
    assertEquals(2, second.get("a"));
    assertNull(second.get("b"));
  }

  private static int emptyChunks(SharedMap<String, Integer> map) {
    return map.chunksSharedWith(SharedMap.empty());
  }
}
