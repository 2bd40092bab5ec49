package io.haproxyconfd.adapters.haproxy;

import io.haproxyconfd.domain.Backend;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * HAProxy's own view of its servers, read from {@code show servers state}: what a runtime change
 * really did, since HAProxy answers some refusals ({@code Invalid addr}) at the same severity as a
 * success ({@code IP changed from ...}).
 */
final class ServerStates {
  private ServerStates() {}

  /**
   * One server line of {@code show servers state}.
   *
   * @param opState 0 stopped (DOWN or in maintenance), 1 starting, 2 running, 3 stopping
   * @param adminState bit 0x01: forced maintenance (an empty slot); 0x02: maintenance inherited;
   *     0x04: declared {@code disabled} in the config (kept after it is made ready)
   * @param secondsInState seconds since the last change of its state
   */
  record Server(
      String backend,
      String name,
      String address,
      int port,
      int opState,
      int adminState,
      long secondsInState) {
    /** HAProxy's word for {@link #opState}, as on its stats page. */
    String state() {
      return switch (opState) {
        case 0 -> "DOWN";
        case 1 -> "STARTING";
        case 2 -> "UP";
        case 3 -> "STOPPING";
        default -> "state " + opState;
      };
    }

    /** Filled: in neither forced nor inherited maintenance. */
    boolean filled() {
      return (adminState & 0x03) == 0;
    }

    /** Whether this slot holds {@code expected} (filled, same address and port) or is empty. */
    boolean holds(Optional<Backend> expected) {
      if (expected.isEmpty()) {
        return !filled();
      }
      Backend b = expected.get();
      return filled() && port == b.port().value() && sameAddress(address, b.address());
    }
  }

  /** Parses the answer of {@code show servers state [backend]} (format version 1). */
  static List<Server> parse(String answer) {
    List<Server> servers = new ArrayList<>();
    for (String line : answer.split("\n")) {
      String[] f = line.trim().split("\\s+");
      if (f.length < 19 || line.startsWith("#")) {
        continue;
      }
      servers.add(
          new Server(
              f[1],
              f[3],
              f[4],
              Integer.parseInt(f[18]),
              Integer.parseInt(f[5]),
              Integer.parseInt(f[6]),
              Long.parseLong(f[9])));
    }
    return servers;
  }

  /** Literal addresses compared as addresses ({@code ::1} and {@code 0:0::1} are one). */
  private static boolean sameAddress(String held, String wanted) {
    if (held.equals(wanted)) {
      return true;
    }
    if (!isLiteral(held) || !isLiteral(wanted)) {
      return false;
    }
    try {
      return InetAddress.getByName(held).equals(InetAddress.getByName(wanted));
    } catch (UnknownHostException e) {
      return false;
    }
  }

  /** Only literals are compared as addresses: a name would be looked up in DNS. */
  private static boolean isLiteral(String address) {
    return address.matches("\\d{1,3}(\\.\\d{1,3}){3}")
        || (address.contains(":") && address.matches("[0-9a-fA-F:.]+"));
  }
}
