package io.haproxyconfd.ports;

/** The proxy process could not be started, reached or restarted. */
public class ProxyException extends Exception {
  public ProxyException(String message, Throwable cause) {
    super(message, cause);
  }
}
