package io.haproxyconfd.it.architecture.broken.adapters.one;

import io.haproxyconfd.it.architecture.broken.adapters.two.AdapterTwo;
import io.haproxyconfd.it.architecture.broken.app.Wiring;

/** Breaks "adapters never depend on each other" and "adapters never depend on the app". */
public class AdapterOne {
  public AdapterTwo other = new AdapterTwo();
  public Wiring wiring;
}
