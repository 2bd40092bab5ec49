package io.haproxyconfd.adapters.haproxy;

import io.haproxyconfd.ports.ProxyConfigurator;

/** Makes the HAProxy {@link ProxyConfigurator}. */
public final class HaproxyConfigurators {
  private HaproxyConfigurators() {}

  /**
   * A configurator for HAProxy; nothing runs until {@link ProxyConfigurator#start()}, and {@link
   * ProxyConfigurator#render} and {@link ProxyConfigurator#check} need no start. Closing it leaves
   * HAProxy serving (a restarted daemon adopts it); {@link ProxyConfigurator#stop} stops HAProxy
   * too.
   */
  public static ProxyConfigurator create(HaproxySettings settings) {
    return new HaproxyConfigurator(settings);
  }
}
