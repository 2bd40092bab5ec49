package io.haproxyconfd.domain;

import java.util.Collections;
import java.util.Map;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The last keys of each service that parsed clean, by the service's folder ({@code services/web},
 * {@code tcp-services/db}), with each key relative to that folder ({@code domain}, {@code w1}).
 *
 * <p>A serving service whose keys turn bad keeps serving the version these keys give, until its
 * keys are good again or it is deleted: one mistyped {@code domain} is a reported problem, not an
 * outage. A new service with a bad value has no last good version and is left out.
 *
 * <p>Immutable. The parser hands over key maps it never changes again, which are kept as they are
 * rather than copied, in a {@link SharedMap} that shares all but the changed services with the last
 * good keys before: a moved backend at 10,000 services copies a few of them, not all.
 */
public final class LastGood {
  public static final LastGood NONE = new LastGood(SharedMap.empty());

  private final SharedMap<String, SortedMap<String, KeySnapshot.Entry>> services;

  /** {@link #services()}, made when first asked for. */
  private volatile SortedMap<String, SortedMap<String, KeySnapshot.Entry>> sorted;

  private LastGood(SharedMap<String, SortedMap<String, KeySnapshot.Entry>> services) {
    this.services = services;
  }

  /** A copy of {@code services}, folder by folder. */
  public static LastGood of(Map<String, ? extends Map<String, KeySnapshot.Entry>> services) {
    SharedMap.Builder<String, SortedMap<String, KeySnapshot.Entry>> copy =
        SharedMap.<String, SortedMap<String, KeySnapshot.Entry>>empty().toBuilder();
    services.forEach(
        (folder, keys) -> copy.put(folder, Collections.unmodifiableSortedMap(new TreeMap<>(keys))));
    return new LastGood(copy.build());
  }

  /** The parser's own: folders whose key maps are unmodifiable and never change again. */
  static LastGood sharing(SharedMap<String, SortedMap<String, KeySnapshot.Entry>> frozen) {
    return new LastGood(frozen);
  }

  /** Every folder's keys, in order: made on the first call, in proportion to all the folders. */
  public SortedMap<String, SortedMap<String, KeySnapshot.Entry>> services() {
    SortedMap<String, SortedMap<String, KeySnapshot.Entry>> s = sorted;
    if (s == null) {
      s = Collections.unmodifiableSortedMap(services.toSortedMap());
      sorted = s;
    }
    return s;
  }

  SharedMap<String, SortedMap<String, KeySnapshot.Entry>> shared() {
    return services;
  }

  Optional<SortedMap<String, KeySnapshot.Entry>> of(String folder) {
    return Optional.ofNullable(services.get(folder));
  }

  /** Compared folder by folder, in proportion to the folders that differ. */
  @Override
  public boolean equals(Object o) {
    return o == this || (o instanceof LastGood other && services.equals(other.services));
  }

  @Override
  public int hashCode() {
    return services.hashCode();
  }

  @Override
  public String toString() {
    return "LastGood" + services;
  }
}
