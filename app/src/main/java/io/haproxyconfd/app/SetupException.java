package io.haproxyconfd.app;

/**
 * Something on the machine the daemon needs and cannot use (the state directory, a nameserver): the
 * operator's to fix, so it is one line naming the cause and an exit status of its own, never a
 * stack trace.
 */
final class SetupException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final int exitCode;

  SetupException(int exitCode, String message) {
    super(message);
    this.exitCode = exitCode;
  }

  int exitCode() {
    return exitCode;
  }
}
