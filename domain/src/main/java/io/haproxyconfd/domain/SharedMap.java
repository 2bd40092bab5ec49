package io.haproxyconfd.domain;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.function.BiConsumer;

/**
 * An immutable map made to be changed a few keys at a time, at 10,000 keys as cheaply as at 100.
 * The keys are spread over {@value #CHUNKS} chunks by their hash; a changed map copies the table of
 * chunks and the chunks its changes fall in, and shares every other chunk with the map it came
 * from. Copying a 10,000-entry {@link TreeMap} for each moved backend cost ~0.4 MB of garbage and a
 * young collection every few changes; a change here copies about 2 KB.
 *
 * <p>Two maps made from each other compare chunk by chunk, and a shared chunk is equal without
 * looking inside: comparing is in proportion to what differs. Iteration order is not defined;
 * {@link #toSortedMap()} gives the keys in order.
 *
 * @param <K> keys, with {@code equals} and {@code hashCode}
 * @param <V> values; never null
 */
public final class SharedMap<K, V> {
  static final int CHUNKS = 256;

  private static final SharedMap<Object, Object> EMPTY = new SharedMap<>(newTable(), 0);

  /** Chunk {@code i} holds the keys whose {@link #chunkOf} is {@code i}; null when it has none. */
  private final HashMap<K, V>[] chunks;

  private final int size;

  private SharedMap(HashMap<K, V>[] chunks, int size) {
    this.chunks = chunks;
    this.size = size;
  }

  @SuppressWarnings("unchecked")
  public static <K, V> SharedMap<K, V> empty() {
    return (SharedMap<K, V>) EMPTY;
  }

  public static <K, V> SharedMap<K, V> copyOf(Map<? extends K, ? extends V> map) {
    Builder<K, V> b = new Builder<>(empty());
    map.forEach(b::put);
    return b.build();
  }

  @SuppressWarnings("unchecked")
  private static <K, V> HashMap<K, V>[] newTable() {
    return (HashMap<K, V>[]) new HashMap<?, ?>[CHUNKS];
  }

  /**
   * The chunk of a key: the top bits of its hash, mixed. A chunk's {@link HashMap} indexes by the
   * low bits, so that the keys of one chunk still spread over its buckets.
   */
  private static int chunkOf(Object key) {
    return (key.hashCode() * 0x9E3779B9) >>> 24;
  }

  public V get(Object key) {
    HashMap<K, V> chunk = chunks[chunkOf(key)];
    return chunk == null ? null : chunk.get(key);
  }

  public boolean containsKey(Object key) {
    return get(key) != null;
  }

  public int size() {
    return size;
  }

  public boolean isEmpty() {
    return size == 0;
  }

  /** Every entry, in no defined order. */
  public void forEach(BiConsumer<? super K, ? super V> action) {
    for (HashMap<K, V> chunk : chunks) {
      if (chunk != null) {
        chunk.forEach(action);
      }
    }
  }

  /** A new sorted map of these entries: a copy, in proportion to the whole map. */
  public SortedMap<K, V> toSortedMap() {
    SortedMap<K, V> sorted = new TreeMap<>();
    forEach(sorted::put);
    return sorted;
  }

  /** A builder that starts from this map and shares what it does not change. */
  public Builder<K, V> toBuilder() {
    return new Builder<>(this);
  }

  /** How many chunks this map holds in the very same object as {@code other} (or both none). */
  int chunksSharedWith(SharedMap<?, ?> other) {
    int shared = 0;
    for (int i = 0; i < CHUNKS; i++) {
      shared += chunks[i] == other.chunks[i] ? 1 : 0;
    }
    return shared;
  }

  @Override
  public boolean equals(Object o) {
    if (o == this) {
      return true;
    }
    if (!(o instanceof SharedMap<?, ?> other) || other.size != size) {
      return false;
    }
    for (int i = 0; i < CHUNKS; i++) {
      Map<?, ?> a = chunks[i];
      Map<?, ?> b = other.chunks[i];
      if (a != b && !Objects.equals(a == null ? Map.of() : a, b == null ? Map.of() : b)) {
        return false;
      }
    }
    return true;
  }

  /** The hash of a {@link Map} with these entries. */
  @Override
  public int hashCode() {
    int h = 0;
    for (HashMap<K, V> chunk : chunks) {
      if (chunk != null) {
        h += chunk.hashCode();
      }
    }
    return h;
  }

  @Override
  public String toString() {
    return toSortedMap().toString();
  }

  /**
   * Changes to a map, made in place on copies of the chunks they touch. Each {@link #build()} hands
   * the chunks over to the map it makes; a change after that copies the chunk again, so that no map
   * built is ever changed. Not thread-safe.
   */
  public static final class Builder<K, V> {
    private HashMap<K, V>[] chunks;
    private boolean tableOwned;
    private final boolean[] owned = new boolean[CHUNKS];
    private int size;

    private Builder(SharedMap<K, V> from) {
      this.chunks = from.chunks;
      this.size = from.size;
    }

    public V get(Object key) {
      HashMap<K, V> chunk = chunks[chunkOf(key)];
      return chunk == null ? null : chunk.get(key);
    }

    /**
     * @return the value {@code key} had, or null
     */
    public V put(K key, V value) {
      Objects.requireNonNull(value, "value");
      HashMap<K, V> chunk = writable(chunkOf(key));
      V was = chunk.put(key, value);
      if (was == null) {
        size++;
      }
      return was;
    }

    /**
     * @return the value {@code key} had, or null
     */
    public V remove(Object key) {
      int i = chunkOf(key);
      if (chunks[i] == null || !chunks[i].containsKey(key)) {
        return null;
      }
      HashMap<K, V> chunk = writable(i);
      V was = chunk.remove(key);
      size--;
      if (chunk.isEmpty()) {
        chunks[i] = null;
        owned[i] = false;
      }
      return was;
    }

    /** Empties the map being built. */
    public void clear() {
      chunks = newTable();
      tableOwned = true;
      Arrays.fill(owned, false);
      size = 0;
    }

    public int size() {
      return size;
    }

    /** The map as built so far; changes after this one copy what they touch again. */
    public SharedMap<K, V> build() {
      tableOwned = false;
      Arrays.fill(owned, false);
      return new SharedMap<>(chunks, size);
    }

    private HashMap<K, V> writable(int i) {
      if (!tableOwned) {
        chunks = chunks.clone();
        tableOwned = true;
      }
      if (!owned[i]) {
        chunks[i] = chunks[i] == null ? new HashMap<>() : new HashMap<>(chunks[i]);
        owned[i] = true;
      }
      return chunks[i];
    }
  }
}
