package io.haproxyconfd.app;

/** What the process's exit status means; documented in --help. */
final class ExitCode {
  private ExitCode() {}

  /** Done; for {@code check}: no problem found. */
  static final int OK = 0;

  /** {@code check} found problems in the keys. */
  static final int PROBLEMS = 1;

  /** A wrong flag or setting. */
  static final int USAGE = 2;

  /** The key-value store could not be reached in time. */
  static final int STORE_UNAVAILABLE = 3;

  /** The key-value store refused the credentials or certificates. */
  static final int STORE_REFUSED = 4;

  /** HAProxy could not be started or reached. */
  static final int PROXY_FAILED = 5;

  /** The state directory cannot be created or written. */
  static final int STATE_DIR = 6;

  /** Backends are found by DNS, and no nameserver is named to ask. */
  static final int NO_NAMESERVER = 7;

  static final String HELP =
      "%nExit status: 0 ok, 1 problems found (check), 2 usage, 3 store unreachable,"
          + " 4 store refused credentials, 5 HAProxy failed, 6 state directory not writable,"
          + " 7 no nameserver.%n";
}
