package io.haproxyconfd.adapters.haproxy;

import io.haproxyconfd.domain.Certificate;
import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The files of one rendered config: maps and certificates in their own directory, so that writing a
 * candidate never touches what the running HAProxy reads. Only a config that passed {@code haproxy
 * -c} is moved over haproxy.cfg, atomically.
 */
final class Generation {
  private Generation() {}

  static Path dir(Path stateDir, long number) {
    return stateDir.resolve("gen").resolve(Long.toString(number));
  }

  static void writeFiles(Path dir, Plan plan) throws IOException {
    Files.createDirectories(dir.resolve("maps"));
    writeMaps(dir, plan.maps());
    Path certs = dir.resolve("certs");
    Files.createDirectories(certs);
    Files.setPosixFilePermissions(certs, PosixFilePermissions.fromString("rwx------"));
    StringBuilder crtList = new StringBuilder();
    for (Map.Entry<String, Certificate> c : plan.certificates().entrySet()) {
      Path file = certs.resolve(c.getKey());
      writePrivate(file, c.getValue().pem());
      crtList.append(file).append('\n');
    }
    writeAtomically(certs.resolve("crt-list.txt"), crtList.toString());
  }

  static void writeMaps(Path dir, Map<String, List<String>> maps) throws IOException {
    for (Map.Entry<String, List<String>> m : maps.entrySet()) {
      StringBuilder text = new StringBuilder();
      m.getValue().forEach(line -> text.append(line).append('\n'));
      writeAtomically(dir.resolve("maps").resolve(m.getKey()), text.toString());
    }
  }

  private static void writePrivate(Path file, String text) throws IOException {
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    Files.deleteIfExists(tmp);
    Files.createFile(
        tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    Files.writeString(tmp, text);
    move(tmp, file);
  }

  /** Writes a sibling temporary file and renames it over the target: never a partial file. */
  static void writeAtomically(Path file, String text) throws IOException {
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    Files.writeString(tmp, text);
    move(tmp, file);
  }

  static void move(Path from, Path to) throws IOException {
    try {
      Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
    }
  }

  /** Removes every generation but the ones to keep. */
  static void prune(Path stateDir, List<Long> keep) throws IOException {
    Path gens = stateDir.resolve("gen");
    if (!Files.isDirectory(gens)) {
      return;
    }
    try (Stream<Path> dirs = Files.list(gens)) {
      for (Path d : dirs.toList()) {
        if (!keep.contains(parse(d))) {
          try (Stream<Path> files = Files.walk(d)) {
            for (Path f : files.sorted(Comparator.reverseOrder()).toList()) {
              Files.deleteIfExists(f);
            }
          }
        }
      }
    }
  }

  /** The highest generation number on disk, or 0. */
  static long latest(Path stateDir) throws IOException {
    Path gens = stateDir.resolve("gen");
    if (!Files.isDirectory(gens)) {
      return 0;
    }
    try (Stream<Path> dirs = Files.list(gens)) {
      return dirs.mapToLong(Generation::parse).max().orElse(0);
    }
  }

  private static long parse(Path dir) {
    try {
      return Long.parseLong(dir.getFileName().toString());
    } catch (NumberFormatException e) {
      return -1;
    }
  }
}
