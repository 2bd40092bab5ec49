package io.haproxyconfd.adapters.haproxy;

import io.haproxyconfd.domain.TcpService;
import java.io.IOException;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Whether HAProxy will be able to bind a TCP service's port. {@code haproxy -c} does not bind, so a
 * port another process holds passes the check and then fails the reload, and every other change
 * with it. Only ports new to the running config are probed: the ones HAProxy holds already would
 * fail the probe and succeed in the reload (its listeners share them).
 */
final class BindProbe {
  private static final Pattern BIND_PORT = Pattern.compile("(?m)^\\s*bind \\S*:(\\d+)(?:\\s|$)");

  private BindProbe() {}

  /** The ports the {@code bind} lines of a rendered config listen on. */
  static Set<Integer> boundPorts(String configText) {
    Set<Integer> ports = new TreeSet<>();
    Matcher m = BIND_PORT.matcher(configText);
    while (m.find()) {
      ports.add(Integer.parseInt(m.group(1)));
    }
    return ports;
  }

  /**
   * The check's alert for the first TCP service of {@code text} whose port is new and cannot be
   * bound, pointing at its {@code listen} line so that only that service is left out; empty if all
   * can.
   */
  static Optional<String> alert(
      String text, String file, Iterable<TcpService> tcp, Set<Integer> held, String address) {
    for (TcpService t : tcp) {
      int port = t.externalPort().value();
      if (held.contains(port)) {
        continue;
      }
      Optional<String> why = refusal(address, port);
      if (why.isPresent()) {
        int line = lineOf(text, "listen " + Plan.tcpListenName(t));
        return Optional.of(
            "[ALERT]    (bind probe) : config : parsing ["
                + file
                + ":"
                + line
                + "] : cannot bind "
                + address
                + ":"
                + port
                + ": "
                + why.get());
      }
    }
    return Optional.empty();
  }

  /** Why {@code address:port} cannot be bound now, or empty. */
  static Optional<String> refusal(String address, int port) {
    try (ServerSocket socket = new ServerSocket()) {
      socket.setReuseAddress(true); // a port in TIME_WAIT is no obstacle to HAProxy either
      socket.bind(new InetSocketAddress(InetAddress.getByName(address), port));
      return Optional.empty();
    } catch (BindException e) {
      String message = String.valueOf(e.getMessage());
      if (message.contains("ermission")) {
        return Optional.of(
            "permission denied (a port under 1024 needs root or CAP_NET_BIND_SERVICE)");
      }
      return Optional.of(
          "the port is in use by another process ("
              + message
              + "); once it is free, write any key of the service to try again");
    } catch (IOException e) {
      return Optional.of(String.valueOf(e.getMessage()));
    }
  }

  /** The 1-based number of the line that is {@code line}, or 0. */
  private static int lineOf(String text, String line) {
    int at = text.indexOf("\n" + line + "\n");
    return at < 0 ? 0 : (int) text.substring(0, at + 1).chars().filter(c -> c == '\n').count() + 1;
  }
}
