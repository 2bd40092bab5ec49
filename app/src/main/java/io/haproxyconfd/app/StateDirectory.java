package io.haproxyconfd.app;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * Whether the state directory can be used, asked before anything starts: a directory mounted from
 * the host often belongs to another user (the image runs as UID 10080).
 */
final class StateDirectory {
  private StateDirectory() {}

  /** Creates {@code dir} if it is missing and writes a file in it; else one line saying why not. */
  static void check(Path dir) {
    try {
      Files.createDirectories(dir);
      Files.delete(Files.createTempFile(dir, ".writable-", ""));
    } catch (AccessDeniedException e) {
      throw new SetupException(ExitCode.STATE_DIR, refusal(dir, e));
    } catch (IOException e) {
      String reason = e.getMessage();
      if (e instanceof java.nio.file.FileSystemException f && f.getReason() != null) {
        reason = f.getReason();
      }
      throw new SetupException(
          ExitCode.STATE_DIR,
          "the state directory " + dir + " (STATE_DIR) cannot be used: " + reason);
    }
  }

  private static String refusal(Path dir, AccessDeniedException e) {
    Path denied = Path.of(e.getFile() == null ? dir.toString() : e.getFile());
    Path where = Files.isDirectory(denied) ? denied : denied.getParent();
    if (where == null) {
      where = dir;
    }
    String me = uid(Path.of("/proc/self"));
    return "the state directory "
        + dir
        + " (STATE_DIR) cannot be written by user "
        + me
        + ": "
        + where
        + " belongs to user "
        + uid(where)
        + " with mode "
        + mode(where)
        + "; give it to user "
        + me
        + " (chown) or set STATE_DIR to a directory it may write";
  }

  private static String uid(Path path) {
    try {
      return String.valueOf(Files.getAttribute(path, "unix:uid"));
    } catch (IOException | RuntimeException e) {
      return "?";
    }
  }

  private static String mode(Path path) {
    try {
      return PosixFilePermissions.toString(Files.getPosixFilePermissions(path));
    } catch (IOException | RuntimeException e) {
      return "?";
    }
  }
}
