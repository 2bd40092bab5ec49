package io.haproxyconfd.adapters.haproxy;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.haproxyconfd.domain.Await;
import io.haproxyconfd.domain.ProxyConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The deferred writer of haproxy.cfg: written once quiet, and written again after a failure. */
class ConfigFileTest {
  @TempDir Path dir;

  @Test
  void a_write_that_fails_is_tried_again_until_it_is_done() throws Exception {
    AtomicInteger tries = new AtomicInteger();
    Path file = dir.resolve("haproxy.cfg");
    try (ConfigFile config =
        new ConfigFile(
            file,
            (c, slots, gen, maps) -> {
              if (tries.incrementAndGet() == 1) {
                throw new IOException("disk full");
              }
              return "revision " + c.revision() + "\n";
            })) {
      config.later(
          new ProxyConfig(7, java.util.List.of(), java.util.List.of()), Slots.empty(), dir, false);
      Await.until(
          Duration.ofSeconds(10),
          "haproxy.cfg written after the failure",
          () -> Files.exists(file));
      assertEquals("revision 7\n", Files.readString(file));
      assertEquals(2, tries.get());
    }
  }
}
