package io.haproxyconfd.it.architecture.broken.adapters.two;

import io.haproxyconfd.it.architecture.broken.ports.Port;
import jakarta.inject.Inject;

/**
 * Breaks "only the app knows Guice", "no field injection" and "adapter implementations of a port
 * are not public".
 */
public class AdapterTwo implements Port {
  @Inject public String injected;

  @Override
  public void serve() {}
}
