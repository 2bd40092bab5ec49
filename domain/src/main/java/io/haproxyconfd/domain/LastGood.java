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
 */
public record LastGood(SortedMap<String, SortedMap<String, KeySnapshot.Entry>> services) {
  public static final LastGood NONE = new LastGood(new TreeMap<>());

  public LastGood {
    SortedMap<String, SortedMap<String, KeySnapshot.Entry>> copy = new TreeMap<>();
    services.forEach(
        (folder, keys) -> copy.put(folder, Collections.unmodifiableSortedMap(new TreeMap<>(keys))));
    services = Collections.unmodifiableSortedMap(copy);
  }

  public static LastGood of(Map<String, ? extends Map<String, KeySnapshot.Entry>> services) {
    SortedMap<String, SortedMap<String, KeySnapshot.Entry>> copy = new TreeMap<>();
    services.forEach((folder, keys) -> copy.put(folder, new TreeMap<>(keys)));
    return new LastGood(copy);
  }

  Optional<SortedMap<String, KeySnapshot.Entry>> of(String folder) {
    return Optional.ofNullable(services.get(folder));
  }
}
