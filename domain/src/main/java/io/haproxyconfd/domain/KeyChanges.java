package io.haproxyconfd.domain;

import java.util.Collections;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The keys of one proxy that changed between two store revisions: each changed key with its value
 * now, or empty where the key went. Keys are relative to the proxy's prefix, as in {@link
 * KeySnapshot}.
 *
 * @param fromRevision the revision the changes start from: the keys a caller holds
 * @param revision the revision the changes bring those keys to
 */
public record KeyChanges(
    long fromRevision, long revision, SortedMap<String, Optional<KeySnapshot.Entry>> keys) {
  public KeyChanges {
    if (revision < fromRevision) {
      throw new IllegalArgumentException(
          "changes go back from revision " + fromRevision + " to " + revision);
    }
    keys = Collections.unmodifiableSortedMap(new TreeMap<>(keys));
  }
}
