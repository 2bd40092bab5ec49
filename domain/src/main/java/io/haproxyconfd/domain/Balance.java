package io.haproxyconfd.domain;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/** The HAProxy balance algorithms that take no argument: an allow-list. */
public enum Balance {
  ROUNDROBIN("roundrobin"),
  STATIC_RR("static-rr"),
  LEASTCONN("leastconn"),
  FIRST("first"),
  SOURCE("source"),
  URI("uri"),
  RANDOM("random");

  private final String keyword;

  Balance(String keyword) {
    this.keyword = keyword;
  }

  /** The word as HAProxy spells it. */
  public String keyword() {
    return keyword;
  }

  public static Balance parse(String text) {
    String wanted = text == null ? "" : text.trim().toLowerCase(Locale.ROOT);
    for (Balance b : values()) {
      if (b.keyword.equals(wanted)) {
        return b;
      }
    }
    throw new IllegalArgumentException(
        "not a balance algorithm; one of "
            + Arrays.stream(values()).map(Balance::keyword).collect(Collectors.joining(", ")));
  }
}
