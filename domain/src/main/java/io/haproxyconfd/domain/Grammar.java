package io.haproxyconfd.domain;

import java.util.regex.Pattern;

/**
 * The strict grammars every key value is checked against before it becomes part of the model.
 *
 * <p>None of them admits whitespace, control characters, quotes or {@code #}: a value that passes
 * cannot add a line, an argument or a comment to an HAProxy config.
 */
final class Grammar {
  private Grammar() {}

  static final int MAX_HOST = 253;
  static final int MAX_PATH = 512;
  static final int MAX_REGEX = 256;

  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,62}");
  private static final Pattern HOST_LABEL = Pattern.compile("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?");
  private static final Pattern PATH = Pattern.compile("/[A-Za-z0-9._~!+,;=:@/-]{0,511}");
  private static final Pattern REGEX_CHARS = Pattern.compile("[\\x21-\\x7e&&[^\"'#%`]]+");
  private static final Pattern TOKEN = Pattern.compile("[A-Za-z0-9_-]{1,64}");

  /** Service names and proxy ids: they become HAProxy section names and DNS names. */
  static String name(String value, String what) {
    require(value, what);
    if (!NAME.matcher(value).matches()) {
      throw new IllegalArgumentException(
          what + " must be 1-63 letters, digits, '-', '_' or '.', starting with a letter or digit");
    }
    return value;
  }

  /** An RFC 1123 host name, lower-cased; {@code *.} may stand first when wildcards are allowed. */
  static String host(String value, boolean wildcardAllowed) {
    require(value, "host name");
    String host = value.toLowerCase(java.util.Locale.ROOT);
    if (host.length() > MAX_HOST) {
      throw new IllegalArgumentException("host name longer than " + MAX_HOST + " characters");
    }
    if (!host.chars().allMatch(c -> c < 0x80)) {
      throw new IllegalArgumentException(
          "not a host name (RFC 1123): it holds non-ASCII characters" + punycodeHint(host));
    }
    String rest = host;
    if (host.startsWith("*.")) {
      if (!wildcardAllowed) {
        throw new IllegalArgumentException("wildcard host names are not allowed here");
      }
      rest = host.substring(2);
    }
    if (rest.isEmpty() || rest.endsWith(".")) {
      throw new IllegalArgumentException("not a host name (RFC 1123)");
    }
    for (String label : rest.split("\\.", -1)) {
      if (!HOST_LABEL.matcher(label).matches()) {
        throw new IllegalArgumentException(
            "not a host name (RFC 1123): each label is 1-63 letters, digits or '-'");
      }
    }
    return host;
  }

  /** For an internationalized name, its ASCII form: what clients send in the Host header. */
  private static String punycodeHint(String host) {
    try {
      String ascii = java.net.IDN.toASCII(host, java.net.IDN.USE_STD3_ASCII_RULES);
      return ascii.startsWith("xn--") || ascii.contains(".xn--")
          ? "; write it as " + ascii + ", the form clients send"
          : "";
    } catch (IllegalArgumentException e) {
      return "";
    }
  }

  /** A URL path: starts with '/', only unreserved and a few sub-delimiter characters. */
  static String path(String value) {
    require(value, "path");
    if (!value.startsWith("/")) {
      throw new IllegalArgumentException("a path must start with '/'");
    }
    if (value.length() > MAX_PATH) {
      throw new IllegalArgumentException("path longer than " + MAX_PATH + " characters");
    }
    if (!PATH.matcher(value).matches()) {
      throw new IllegalArgumentException(
          "a path may hold only letters, digits and ._~!+,;=:@/- (no spaces, quotes, '#', '%' or"
              + " '?')");
    }
    return value;
  }

  /** A path regular expression: printable ASCII without quotes, '#', '%' or '`'; must compile. */
  static String regex(String value) {
    require(value, "regular expression");
    if (value.length() > MAX_REGEX) {
      throw new IllegalArgumentException(
          "regular expression longer than " + MAX_REGEX + " characters");
    }
    if (!REGEX_CHARS.matcher(value).matches()) {
      throw new IllegalArgumentException(
          "a regular expression may hold only printable ASCII without spaces, quotes, '#', '%' or"
              + " '`'");
    }
    try {
      Pattern.compile(value);
    } catch (java.util.regex.PatternSyntaxException e) {
      throw new IllegalArgumentException(
          "regular expression does not compile: " + e.getDescription());
    }
    return value;
  }

  /** A short word: cookie names, user names. */
  static String token(String value, String what) {
    require(value, what);
    if (!TOKEN.matcher(value).matches()) {
      throw new IllegalArgumentException(what + " must be 1-64 letters, digits, '-' or '_'");
    }
    return value;
  }

  static boolean bool(String value) {
    return switch (value.trim().toLowerCase(java.util.Locale.ROOT)) {
      case "true", "yes", "on", "1" -> true;
      case "false", "no", "off", "0" -> false;
      default -> throw new IllegalArgumentException("not a boolean (true or false)");
    };
  }

  private static void require(String value, String what) {
    if (value == null || value.isEmpty()) {
      throw new IllegalArgumentException(what + " is empty");
    }
  }
}
