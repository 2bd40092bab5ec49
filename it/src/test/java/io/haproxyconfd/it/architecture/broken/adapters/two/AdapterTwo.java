package io.haproxyconfd.it.architecture.broken.adapters.two;

import jakarta.inject.Inject;

/** Breaks "only the app knows Guice" and "no field injection". */
public class AdapterTwo {
  @Inject public String injected;
}
