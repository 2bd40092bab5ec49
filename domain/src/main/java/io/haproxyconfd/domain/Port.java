package io.haproxyconfd.domain;

/** A TCP port, 1 to 65535. */
public record Port(int value) implements Comparable<Port> {
  public Port {
    if (value < 1 || value > 65535) {
      throw new IllegalArgumentException("port must be between 1 and 65535");
    }
  }

  public static Port of(int value) {
    return new Port(value);
  }

  /** Parses a decimal port: digits only, no sign, no leading zero, no spaces. */
  public static Port parse(String text) {
    if (text == null || !text.matches("[1-9][0-9]{0,4}")) {
      throw new IllegalArgumentException("not a port number (1-65535)");
    }
    return new Port(Integer.parseInt(text));
  }

  @Override
  public int compareTo(Port other) {
    return Integer.compare(value, other.value);
  }

  @Override
  public String toString() {
    return Integer.toString(value);
  }
}
