package io.haproxyconfd.adapters.haproxy;

import io.haproxyconfd.domain.ProxyConfig;
import io.haproxyconfd.ports.ProxyConfigurator;

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
        .render(Plan.build(config, slots, settings, Generation.dir(settings.stateDir(), 0)));
  }

  /** Stops the HAProxy a configurator from this package started or adopted, and the supervision. */
  public static void stop(ProxyConfigurator configurator) {
    if (configurator instanceof HaproxyConfigurator h) {
      h.stopProxy();
    }
    configurator.close();
  }
}
