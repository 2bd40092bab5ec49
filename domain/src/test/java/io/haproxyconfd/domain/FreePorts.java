package io.haproxyconfd.domain;

import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Loopback ports for test servers. They come from below the kernel's ephemeral range (32768+), so
 * that no outgoing connection can take one between the test choosing it and the server binding it,
 * and none is handed out twice in one JVM.
 */
public final class FreePorts {
  private static final int FIRST = 20000;
  private static final int LAST = 32000;
  private static final Set<Integer> GIVEN = ConcurrentHashMap.newKeySet();

  private FreePorts() {}

  /** A port free for TCP and UDP on the loopback address. */
  public static int next() {
    for (int attempt = 0; attempt < 1000; attempt++) {
      int port = ThreadLocalRandom.current().nextInt(FIRST, LAST);
      if (GIVEN.add(port) && bindable(port)) {
        return port;
      }
    }
    throw new IllegalStateException("no free loopback port between " + FIRST + " and " + LAST);
  }

  private static boolean bindable(int port) {
    InetAddress loopback = InetAddress.getLoopbackAddress();
    try (ServerSocket tcp = new ServerSocket(port, 1, loopback);
        DatagramSocket udp = new DatagramSocket(port, loopback)) {
      return true;
    } catch (IOException e) {
      return false;
    }
  }
}
