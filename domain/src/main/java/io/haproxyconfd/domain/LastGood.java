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
 * rather than copied, so that a pass over 10,000 unchanged services copies none of them.
 */
public final class LastGood {
  public static final LastGood NONE = new LastGood(Collections.emptySortedMap());

  private final SortedMap<String, SortedMap<String, KeySnapshot.Entry>> services;

  private LastGood(SortedMap<String, SortedMap<String, KeySnapshot.Entry>> services) {
    this.services = Collections.unmodifiableSortedMap(services);
  }

  /** A copy of {@code services}, folder by folder. */
  public static LastGood of(Map<String, ? extends Map<String, KeySnapshot.Entry>> services) {
    SortedMap<String, SortedMap<String, KeySnapshot.Entry>> copy = new TreeMap<>();
    services.forEach(
        (folder, keys) -> copy.put(folder, Collections.unmodifiableSortedMap(new TreeMap<>(keys))));
    return new LastGood(copy);
  }

  /** The parser's own: folders whose key maps are unmodifiable and never change again. */
  static LastGood sharing(SortedMap<String, SortedMap<String, KeySnapshot.Entry>> frozen) {
    return new LastGood(frozen);
  }

  public SortedMap<String, SortedMap<String, KeySnapshot.Entry>> services() {
    return services;
  }

  Optional<SortedMap<String, KeySnapshot.Entry>> of(String folder) {
    return Optional.ofNullable(services.get(folder));
  }

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
