package io.haproxyconfd.adapters.haproxy;

import io.haproxyconfd.domain.Problem;
import io.haproxyconfd.domain.ProxyConfig;
import io.haproxyconfd.ports.ProxyConfigurator;
import io.haproxyconfd.ports.ProxyException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/** Makes the HAProxy {@link ProxyConfigurator}. */
public final class HaproxyConfigurators {
  private HaproxyConfigurators() {}

  /**
   * A configurator for HAProxy; nothing runs until {@link ProxyConfigurator#start()}. Closing it
   * leaves HAProxy serving (a restarted daemon adopts it); {@link #stop} stops HAProxy too.
   */
  public static ProxyConfigurator create(HaproxySettings settings) {
    return new HaproxyConfigurator(settings);
  }

  /**
   * The haproxy.cfg a config would be rendered as (with fresh server slots), for {@code
   * haproxy-confd render}; nothing is written or run.
   */
  public static String render(ProxyConfig config, HaproxySettings settings) {
    Slots slots = Slots.fresh(HaproxyConfigurator.servers(config));
    return new Renderer(settings.templateDir())
        .render(
            Plan.build(
                config,
                slots,
                settings,
                CookieKey.peek(settings),
                HaproxyProcess.openFilesLimit(),
                Generation.dir(settings.stateDir(), 0)));
  }

  /**
   * Writes haproxy.cfg with every map, certificate and list it refers to into {@code dir}, so that
   * {@code haproxy -c -f dir/haproxy.cfg} checks exactly what would be served.
   *
   * @return the haproxy.cfg written
   */
  public static Path renderTo(ProxyConfig config, HaproxySettings settings, Path dir)
      throws IOException {
    Slots slots = Slots.fresh(HaproxyConfigurator.servers(config));
    Plan plan =
        Plan.build(
            config,
            slots,
            settings,
            CookieKey.peek(settings),
            HaproxyProcess.openFilesLimit(),
            dir.toAbsolutePath());
    Generation.writeFiles(dir, plan);
    Path file = dir.resolve("haproxy.cfg");
    Generation.writeAtomically(file, new Renderer(settings.templateDir()).render(plan));
    return file;
  }

  /**
   * Runs HAProxy's own check ({@code haproxy -c}) on the config in a scratch directory, finds each
   * service it would refuse, and names it by key; nothing is started.
   *
   * @return a problem per refused service, or one for the whole config; empty if all is accepted
   * @throws ProxyException when HAProxy cannot be run
   */
  public static List<Problem> check(ProxyConfig config, HaproxySettings settings)
      throws ProxyException {
    Path scratch;
    try {
      scratch = Files.createTempDirectory("haproxy-confd-check");
    } catch (IOException e) {
      throw new ProxyException("cannot make a scratch directory: " + e.getMessage(), e);
    }
    HaproxyProcess haproxy = new HaproxyProcess(settings);
    try {
      RefusalSearch.Result r =
          RefusalSearch.search(
              config,
              ProxyConfig.EMPTY,
              candidate -> {
                try {
                  Path file = renderTo(candidate, settings, scratch);
                  HaproxyProcess.Check c = haproxy.check(file);
                  return new RefusalSearch.Trial(c.valid(), Files.readString(file), c.output());
                } catch (IOException e) {
                  throw new ProxyException("cannot write to " + scratch + ": " + e.getMessage(), e);
                }
              });
      List<Problem> problems = new ArrayList<>();
      r.wholeConfig().ifPresent(why -> problems.add(Problem.leftOut("", "", why)));
      r.refused()
          .forEach(
              (name, why) ->
                  problems.add(
                      Problem.leftOut(
                          (config.tcpService(name).isPresent() ? "tcp-services/" : "services/")
                              + name,
                          "",
                          why)));
      return problems;
    } finally {
      try (Stream<Path> files = Files.walk(scratch)) {
        files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
      } catch (IOException e) {
        // A scratch directory left in /tmp harms nothing.
      }
    }
  }

  /** Stops the HAProxy a configurator from this package started or adopted, and the supervision. */
  public static void stop(ProxyConfigurator configurator) {
    if (configurator instanceof HaproxyConfigurator h) {
      h.stopProxy();
    }
    configurator.close();
  }
}
