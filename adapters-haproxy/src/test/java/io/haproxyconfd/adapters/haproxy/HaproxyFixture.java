package io.haproxyconfd.adapters.haproxy;

import io.haproxyconfd.domain.Keys;
import io.haproxyconfd.domain.ParseOptions;
import io.haproxyconfd.domain.ParseResult;
import io.haproxyconfd.domain.ProxyConfig;
import io.haproxyconfd.ports.ApplyResult;
import io.haproxyconfd.ports.ProxyConfigurator;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A real HAProxy (Debian's package) run by the configurator on free loopback ports with a temporary
 * state directory; stopped by the PID in that directory's pid file.
 */
public final class HaproxyFixture implements BeforeAllCallback, AfterAllCallback {
  public HaproxySettings settings;
  public ProxyConfigurator configurator;
  private Path stateDir;

  @Override
  public void beforeAll(ExtensionContext context) throws Exception {
    stateDir = Files.createTempDirectory("haproxy-state");
    settings =
        HaproxySettings.defaults(stateDir)
            .withPorts("127.0.0.1", freePort(), freePort(), freePort())
            .withStatsPassword("statspw");
    configurator = HaproxyConfigurators.create(settings);
    configurator.start();
  }

  @Override
  public void afterAll(ExtensionContext context) throws Exception {
    configurator.stop();
    try (Stream<Path> files = Files.walk(stateDir)) {
      files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
    }
  }

  public Path stateDir() {
    return stateDir;
  }

  public int http() {
    return settings.httpPort();
  }

  /** Parses keys (backends from agent keys) and applies the result. */
  public ApplyResult apply(String... keyValues) throws Exception {
    return configurator.apply(config(keyValues));
  }

  public static ProxyConfig config(String... keyValues) {
    ParseResult r =
        Keys.of(keyValues)
            .parse(
                ParseOptions.defaults(Instant.now())
                    .withDiscovery(ParseOptions.Discovery.KEYS)
                    .withCustomSettingsAllowed(true));
    if (r.problems().stream()
        .anyMatch(p -> p.effect() != io.haproxyconfd.domain.Problem.Effect.WARNING)) {
      throw new IllegalArgumentException("test keys have problems: " + r.problems());
    }
    return r.config();
  }

  /** HAProxy's current worker PIDs: a reload changes them, a runtime update does not. */
  public List<Long> workers() {
    return new HaproxyProcess(settings).workers();
  }

  public static int freePort() throws IOException {
    return io.haproxyconfd.domain.FreePorts.next();
  }
}
