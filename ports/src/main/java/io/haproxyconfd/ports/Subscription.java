package io.haproxyconfd.ports;

/** A running watch. Closing it stops the signals; closing twice does nothing. */
public interface Subscription extends AutoCloseable {
  /** Stops the watch. Never throws; safe from any thread, including the listener's. */
  @Override
  void close();
}
