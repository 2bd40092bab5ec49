package io.haproxyconfd.adapters.haproxy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Optional;

/**
 * The secret HAProxy derives sticky-cookie values from ({@code dynamic-cookie-key}). It must stay
 * the same across reloads and restarts, or every client loses its server; and it must not be
 * guessable, or the cookie would tell which backend address a client is on. The operator's
 * COOKIE_KEY if set (several proxies behind one address must share it); otherwise one made once and
 * kept in the state directory.
 */
final class CookieKey {
  private CookieKey() {}

  static String of(HaproxySettings settings) throws IOException {
    Optional<String> given = settings.serving().cookieKey();
    if (given.isPresent()) {
      return given.get();
    }
    Path file = settings.stateDir().resolve("cookie.key");
    Optional<String> kept = read(file);
    if (kept.isPresent()) {
      return kept.get();
    }
    String made = fresh();
    Path tmp = file.resolveSibling("cookie.key.tmp");
    Files.deleteIfExists(tmp);
    Files.createFile(
        tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    Files.writeString(tmp, made + "\n");
    Generation.move(tmp, file);
    return made;
  }

  /** For rendering without running anything: the key in use if there is one, else a fresh one. */
  static String peek(HaproxySettings settings) {
    return settings
        .serving()
        .cookieKey()
        .or(() -> read(settings.stateDir().resolve("cookie.key")))
        .orElseGet(CookieKey::fresh);
  }

  private static Optional<String> read(Path file) {
    try {
      String key = Files.readString(file).strip();
      return key.matches("[0-9a-f]{32}") ? Optional.of(key) : Optional.empty();
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  private static String fresh() {
    byte[] bytes = new byte[16];
    new SecureRandom().nextBytes(bytes);
    return HexFormat.of().formatHex(bytes);
  }
}
