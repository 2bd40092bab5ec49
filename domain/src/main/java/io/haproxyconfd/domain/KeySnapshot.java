package io.haproxyconfd.domain;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The keys of one proxy, read at one store revision. Keys are relative to the proxy's prefix
 * ({@code services/web/domain}).
 *
 * @param revision the store's revision (etcd) or index (Consul) the keys were read at
 */
public record KeySnapshot(long revision, SortedMap<String, Entry> entries) {

  /**
   * One key's value.
   *
   * @param value the text; {@link #INVALID_UTF8} when the stored bytes were not UTF-8
   * @param createRevision when the key was created; earlier keys win conflicts
   */
  public record Entry(String value, long createRevision) {
    public Entry {
      if (value == null) {
        throw new IllegalArgumentException("value is null");
      }
    }
  }

  /** Stands for a value whose bytes are not valid UTF-8; no grammar accepts it. */
  public static final String INVALID_UTF8 = "\uFFFD";

  public KeySnapshot {
    entries = Collections.unmodifiableSortedMap(new TreeMap<>(entries));
  }

  public static KeySnapshot empty(long revision) {
    return new KeySnapshot(revision, new TreeMap<>());
  }

  /** A snapshot of plain values, all created at revision 1: for tools and tests. */
  public static KeySnapshot of(long revision, Map<String, String> values) {
    TreeMap<String, Entry> entries = new TreeMap<>();
    values.forEach((k, v) -> entries.put(k, new Entry(v, 1)));
    return new KeySnapshot(revision, entries);
  }

  /** Each key's value, without its revision. */
  public SortedMap<String, String> values() {
    SortedMap<String, String> values = new TreeMap<>();
    entries.forEach((k, e) -> values.put(k, e.value()));
    return values;
  }

  /** Decodes stored bytes strictly: anything but valid UTF-8 becomes {@link #INVALID_UTF8}. */
  public static String decode(byte[] bytes) {
    try {
      return StandardCharsets.UTF_8
          .newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(bytes))
          .toString();
    } catch (CharacterCodingException e) {
      return INVALID_UTF8;
    }
  }
}
