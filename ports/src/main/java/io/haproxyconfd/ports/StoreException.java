package io.haproxyconfd.ports;

/**
 * The key-value store could not answer. {@link #isPermanent()} separates what retrying cannot fix
 * (a wrong password, a bad certificate) from what it may (the store is down or unreachable).
 */
public class StoreException extends Exception {
  private final boolean permanent;

  public StoreException(String message, boolean permanent, Throwable cause) {
    super(message, cause);
    this.permanent = permanent;
  }

  public static StoreException unavailable(String message, Throwable cause) {
    return new StoreException(message, false, cause);
  }

  public static StoreException refused(String message, Throwable cause) {
    return new StoreException(message, true, cause);
  }

  /** True when retrying will not help until the operator changes something. */
  public boolean isPermanent() {
    return permanent;
  }
}
