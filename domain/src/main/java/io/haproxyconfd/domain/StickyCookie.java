package io.haproxyconfd.domain;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Session stickiness: a cookie naming the server ({@code cookie} key), set the way {@code options}
 * say ({@code insert indirect nocache} unless told otherwise).
 *
 * @param options one mode ({@code insert}, {@code prefix} or {@code rewrite}) first, then flags
 */
public record StickyCookie(String name, List<String> options) {
  public static final String DEFAULT_NAME = "SERVERID";
  private static final List<String> DEFAULT_OPTIONS = List.of("insert", "indirect", "nocache");
  private static final Set<String> MODES = Set.of("insert", "prefix", "rewrite");
  private static final Set<String> FLAGS =
      Set.of("indirect", "nocache", "postonly", "preserve", "httponly", "secure");

  public StickyCookie {
    Grammar.token(name, "cookie name");
    options = List.copyOf(options);
    if (options.isEmpty() || !MODES.contains(options.get(0))) {
      throw new IllegalArgumentException("a cookie needs a mode first: insert, prefix or rewrite");
    }
    for (String flag : options.subList(1, options.size())) {
      if (!FLAGS.contains(flag)) {
        throw new IllegalArgumentException(
            "cookie option '"
                + flag
                + "' is not supported (one of insert, prefix, rewrite, then any of "
                + String.join(", ", FLAGS.stream().sorted().toList())
                + ")");
      }
    }
  }

  public StickyCookie(String name) {
    this(name, DEFAULT_OPTIONS);
  }

  /**
   * An empty value means "insert a server cookie" with the default name; a bare name, that name.
   * Kontena's load balancer took a whole HAProxy line ({@code cookie JSESSIONID prefix nocache}):
   * its name, mode and flags are read from it, and nothing else is allowed.
   */
  public static StickyCookie parse(String value) {
    String trimmed = value == null ? "" : value.strip();
    if (trimmed.isEmpty()) {
      return new StickyCookie(DEFAULT_NAME);
    }
    List<String> words = List.of(trimmed.split("[ \t]+"));
    if (!words.get(0).equals("cookie")) {
      return new StickyCookie(trimmed);
    }
    if (words.size() < 2) {
      throw new IllegalArgumentException("'cookie' without a name");
    }
    Set<String> rest = new LinkedHashSet<>(words.subList(2, words.size()));
    List<String> modes = rest.stream().filter(MODES::contains).toList();
    if (modes.size() > 1) {
      throw new IllegalArgumentException(
          "a cookie has one mode, not " + String.join(" and ", modes));
    }
    List<String> options = new ArrayList<>(modes.isEmpty() ? List.of("insert") : modes);
    rest.stream().filter(w -> !MODES.contains(w)).forEach(options::add);
    return new StickyCookie(words.get(1), options);
  }

  /** The arguments of HAProxy's {@code cookie} directive: name, mode and flags. */
  public String directive() {
    return name + " " + String.join(" ", options);
  }
}
