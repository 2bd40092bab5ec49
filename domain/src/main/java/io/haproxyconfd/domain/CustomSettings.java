package io.haproxyconfd.domain;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Raw HAProxy lines for one service's backend ({@code custom_settings}). Honoured only when the
 * operator turns them on. Even then a line may not open a new section, so the lines stay inside the
 * service's own backend.
 */
public record CustomSettings(List<String> lines) {
  private static final Pattern PRINTABLE = Pattern.compile("[\\x20-\\x7e]+");
  private static final Set<String> SECTIONS =
      Set.of(
          "global",
          "defaults",
          "frontend",
          "backend",
          "listen",
          "userlist",
          "peers",
          "resolvers",
          "mailers",
          "program",
          "http-errors",
          "ring",
          "cache",
          "fcgi-app");

  public CustomSettings {
    lines = List.copyOf(lines);
    if (lines.isEmpty()) {
      throw new IllegalArgumentException("custom settings hold no line");
    }
    for (String line : lines) {
      if (!PRINTABLE.matcher(line).matches() || !line.equals(line.strip())) {
        throw new IllegalArgumentException(
            "each custom line must be printable ASCII without leading or trailing spaces");
      }
      String first = line.split(" ", 2)[0].toLowerCase(Locale.ROOT);
      if (SECTIONS.contains(first)) {
        throw new IllegalArgumentException(
            "a custom line may not open a section ('" + first + "')");
      }
    }
  }

  public static CustomSettings parse(String value) {
    List<String> lines = new ArrayList<>();
    for (String line : value.split("\\r?\\n")) {
      if (!line.isBlank()) {
        lines.add(line.strip());
      }
    }
    return new CustomSettings(lines);
  }
}
