package io.haproxyconfd.adapters.haproxy;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

/**
 * HAProxy's runtime API and master CLI over their Unix sockets, from Java (a socat per command adds
 * ~4 ms). Each call opens a connection, sends the commands separated by ';', and reads until
 * HAProxy closes it.
 */
final class RuntimeApi {
  private final Path socket;

  RuntimeApi(Path socket) {
    this.socket = socket;
  }

  /** Sends one or more commands; returns HAProxy's whole answer. */
  String send(List<String> commands) throws IOException {
    try (SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX)) {
      channel.connect(UnixDomainSocketAddress.of(socket));
      channel.write(
          ByteBuffer.wrap((String.join(";", commands) + "\n").getBytes(StandardCharsets.US_ASCII)));
      channel.shutdownOutput();
      return readAll(channel);
    }
  }

  /** Everything {@code channel} sends until it closes, as ASCII (what HAProxy's sockets speak). */
  static String readAll(SocketChannel channel) throws IOException {
    ByteBuffer buffer = ByteBuffer.allocate(64 * 1024);
    StringBuilder text = new StringBuilder();
    while (channel.read(buffer) >= 0) {
      buffer.flip();
      text.append(StandardCharsets.US_ASCII.decode(buffer));
      buffer.clear();
    }
    return text.toString();
  }

  String send(String command) throws IOException {
    return send(List.of(command));
  }

  String socketPath() {
    return socket.toString();
  }

  boolean answers() {
    try {
      send("show info");
      return true;
    } catch (IOException e) {
      return false;
    }
  }
}
