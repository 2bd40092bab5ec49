package io.haproxyconfd.ports;

import java.util.concurrent.ThreadFactory;

/**
 * Threads of the adapters and the app: named, so a thread dump says whose each is, and daemon
 * threads, so that none of them keeps the JVM alive after {@code close()} was forgotten.
 */
public final class DaemonThreads {
  private DaemonThreads() {}

  /** A daemon thread named {@code name} that runs {@code work}; not started. */
  public static Thread create(String name, Runnable work) {
    Thread t = new Thread(work, name);
    t.setDaemon(true);
    return t;
  }

  /** A factory of daemon threads that all bear {@code name} (for executors). */
  public static ThreadFactory named(String name) {
    return work -> create(name, work);
  }
}
