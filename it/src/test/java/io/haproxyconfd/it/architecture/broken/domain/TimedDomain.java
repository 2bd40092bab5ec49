package io.haproxyconfd.it.architecture.broken.domain;

/** Breaks "the domain reads no clock": it asks for the time instead of being given it. */
public class TimedDomain {
  public boolean expired(java.time.Instant notAfter) {
    return java.time.Instant.now().isAfter(notAfter);
  }
}
