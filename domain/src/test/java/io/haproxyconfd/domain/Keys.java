package io.haproxyconfd.domain;

import java.time.Instant;
import java.util.TreeMap;

/** Builds key snapshots for tests: {@code Keys.of("services/web/port", "80", ...)}. */
public final class Keys {
  public static final Instant NOW = Instant.parse("2026-11-22T12:00:00Z");
  public static final ParseOptions DNS = ParseOptions.defaults(NOW);

  private final TreeMap<String, KeySnapshot.Entry> entries = new TreeMap<>();
  private long revision = 1;

  public static Keys of(String... keyValues) {
    return new Keys().put(keyValues);
  }

  /** Adds keys created at the next revision (later keys lose conflicts). */
  public Keys put(String... keyValues) {
    if (keyValues.length % 2 != 0) {
      throw new IllegalArgumentException("keys and values come in pairs");
    }
    revision++;
    for (int i = 0; i < keyValues.length; i += 2) {
      entries.put(keyValues[i], new KeySnapshot.Entry(keyValues[i + 1], revision));
    }
    return this;
  }

  public KeySnapshot snapshot() {
    return new KeySnapshot(revision, entries);
  }

  public ParseResult parse() {
    return parse(DNS);
  }

  public ParseResult parse(ParseOptions options) {
    return ConfigParser.parse(snapshot(), options);
  }
}
