package io.haproxyconfd.domain;

import java.util.Objects;

/**
 * Something wrong with the keys, named precisely enough for an operator to fix it.
 *
 * @param key the key, relative to the proxy's prefix ({@code services/web/port})
 * @param value the offending value, shortened and with control characters escaped; empty if none
 * @param reason what is wrong, in words
 * @param effect what was done about it
 */
public record Problem(String key, String value, String reason, Effect effect) {

  /** What the problem cost. */
  public enum Effect {
    /** The whole service was left out; the rest of the config is applied. */
    SERVICE_LEFT_OUT,
    /** The service keeps serving its last good version until its keys are good again. */
    LAST_GOOD_KEPT,
    /** Only this key was ignored; the service still runs. */
    KEY_IGNORED,
    /** Nothing was left out, but the operator should know. */
    WARNING
  }

  static final int MAX_SHOWN = 60;

  public Problem {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(reason, "reason");
    Objects.requireNonNull(effect, "effect");
    value = value == null ? "" : shown(value);
  }

  public static Problem leftOut(String key, String value, String reason) {
    return new Problem(key, value, reason, Effect.SERVICE_LEFT_OUT);
  }

  public static Problem ignored(String key, String value, String reason) {
    return new Problem(key, value, reason, Effect.KEY_IGNORED);
  }

  /**
   * What a problem shows of a value: {@link #shorten shortened}, unless it holds a private key, of
   * which nothing is shown (its first characters go to the log, /status and the status page).
   */
  static String shown(String value) {
    if (value.contains("PRIVATE KEY")) {
      return "(" + value.length() + " characters holding a private key: not shown)";
    }
    return shorten(value);
  }

  /** Escapes control and non-ASCII characters and cuts the value to a readable length. */
  public static String shorten(String value) {
    return escape(value, MAX_SHOWN);
  }

  /**
   * A key or a reason with its control and non-ASCII characters escaped: both can hold a store's
   * key, and a newline in one must not start a log line of its own.
   */
  public static String printable(String text) {
    StringBuilder out = new StringBuilder();
    for (char c : text.toCharArray()) {
      switch (c) {
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append("\\t");
        default -> {
          if (c < 0x20 || c > 0x7e) {
            out.append(String.format("\\u%04x", (int) c));
          } else {
            out.append(c);
          }
        }
      }
    }
    return out.toString();
  }

  private static String escape(String value, int max) {
    StringBuilder out = new StringBuilder();
    int shown = 0;
    for (int i = 0; i < value.length() && shown < max; i++, shown++) {
      char c = value.charAt(i);
      switch (c) {
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append("\\t");
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        default -> {
          if (c < 0x20 || c > 0x7e) {
            out.append(String.format("\\u%04x", (int) c));
          } else {
            out.append(c);
          }
        }
      }
    }
    if (value.length() > max) {
      out.append("...(").append(value.length()).append(" chars)");
    }
    return out.toString();
  }

  /** One line for a log: {@code services/web/port="80abc": not a port number; service left out}. */
  @Override
  public String toString() {
    String what =
        switch (effect) {
          case SERVICE_LEFT_OUT -> "service left out";
          case LAST_GOOD_KEPT -> "its last good version keeps serving";
          case KEY_IGNORED -> "key ignored";
          case WARNING -> "warning";
        };
    return printable(key)
        + (value.isEmpty() ? "" : "=\"" + value + "\"")
        + ": "
        + printable(reason)
        + "; "
        + what;
  }
}
