package io.haproxyconfd.it.architecture.broken.ports;

/** A port of the broken fixture. */
public interface Port {
  void serve();
}
