package io.haproxyconfd.it.architecture.broken.domain;

import java.nio.file.Files;
import java.nio.file.Path;

/** Breaks "the domain does no I/O": it reads a file. */
public class ImpureDomain {
  public String read() throws java.io.IOException {
    return Files.readString(Path.of("/etc/hostname"));
  }
}
