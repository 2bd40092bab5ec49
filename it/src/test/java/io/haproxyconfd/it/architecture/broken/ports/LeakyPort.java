package io.haproxyconfd.it.architecture.broken.ports;

/** Breaks "ports depend on the domain only": a library type crosses the port. */
public interface LeakyPort {
  com.google.common.collect.ImmutableList<String> keys();
}
