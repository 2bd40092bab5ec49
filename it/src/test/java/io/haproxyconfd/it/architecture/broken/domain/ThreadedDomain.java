package io.haproxyconfd.it.architecture.broken.domain;

import java.util.concurrent.ConcurrentHashMap;

/** Breaks "the domain uses no threads": a concurrent map and a thread of its own. */
public class ThreadedDomain {
  public final ConcurrentHashMap<String, String> cache = new ConcurrentHashMap<>();

  public void refresh() {
    new Thread(cache::clear).start();
  }
}
