package io.haproxyconfd.adapters.haproxy;

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

  /** Stops the HAProxy a configurator from this package started or adopted, and the supervision. */
  public static void stop(ProxyConfigurator configurator) {
    if (configurator instanceof HaproxyConfigurator h) {
      h.stopProxy();
    }
    configurator.close();
  }
}
