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
    if (!isDecimal(text, 5)) {
      throw new IllegalArgumentException("not a port number (1-65535)");
    }
    return new Port(Integer.parseInt(text));
  }

  /**
   * Whether {@code text} is 1 to {@code maxDigits} ASCII digits without a leading zero. Written
   * out, not a regular expression: every backend of every service passes through here.
   */
  static boolean isDecimal(String text, int maxDigits) {
    if (text == null || text.isEmpty() || text.length() > maxDigits || text.charAt(0) == '0') {
      return false;
    }
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c < '0' || c > '9') {
        return false;
      }
    }
    return true;
  }

  /**
   * The port of a listening address as the Kontena fork's {@code ports} key held it for HAProxy's
   * {@code bind}: {@code 3306}, {@code :3306}, {@code *:3306}, {@code 0.0.0.0:3306} or {@code
   * [::]:3306}. Every service listens on the one bind address the operator sets, so an address of
   * its own is refused rather than silently widened.
   */
  public static Port parseListen(String text) {
    if (text == null) {
      throw new IllegalArgumentException("not a port number (1-65535)");
    }
    int colon = text.lastIndexOf(':');
    if (colon < 0) {
      return parse(text);
    }
    String host = text.substring(0, colon);
    if (!java.util.Set.of("", "*", "0.0.0.0", "::", "[::]").contains(host)) {
      throw new IllegalArgumentException(
          "names one address to listen on; every service listens on the proxy's bind address (BIND_ADDRESS): write the"
              + " port alone");
    }
    return parse(text.substring(colon + 1));
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
