package io.haproxyconfd.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import io.haproxyconfd.domain.KeySnapshot;
import io.haproxyconfd.domain.LastGood;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LastGoodFileTest {
  @TempDir Path dir;

  /** What one daemon kept, the next one reads back: every folder, every key, nothing else. */
  @Test
  void the_last_good_keys_saved_are_the_ones_a_restart_loads() throws Exception {
    Map<String, Map<String, KeySnapshot.Entry>> services = new TreeMap<>();
    for (int i = 0; i < 300; i++) {
      services.put(
          "services/s" + i,
          Map.of(
              "domain", new KeySnapshot.Entry("s" + i + ".example.org", i),
              "w1", new KeySnapshot.Entry("10.0.0." + (i % 250) + ":80", i + 1)));
    }
    services.put("tcp-services/db", Map.of("external_port", new KeySnapshot.Entry("5432", 7)));
    LastGood kept = LastGood.of(services);
    assertNotEquals(LastGood.NONE, kept);

    LastGoodFile file = new LastGoodFile(dir);
    assertEquals(LastGood.NONE, file.load(), "no file yet");
    file.save(kept);
    file.close(); // writes what is pending at once
    LastGood loaded = new LastGoodFile(dir).load();
    assertEquals(kept, loaded);
    assertEquals(kept.services(), loaded.services());
    assertEquals(301, loaded.services().size());
    assertEquals(
        List.of("services/s0", "services/s1", "services/s10"),
        loaded.services().keySet().stream().limit(3).toList(),
        "in order");
    assertEquals(
        "rw-------",
        PosixFilePermissions.toString(
            Files.getPosixFilePermissions(dir.resolve("last-good.json"))));
  }
}
