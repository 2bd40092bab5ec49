package io.haproxyconfd.adapters.haproxy;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

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

  /**
   * Sends commands after {@code set severity-output number}, so that each answer line comes with
   * its syslog severity and a refusal is told by its code, not by its wording.
   */
  Answer sendNumbered(List<String> commands) throws IOException {
    List<String> all = new ArrayList<>();
    all.add("set severity-output number");
    all.addAll(commands);
    return Answer.parse(send(all));
  }

  /**
   * An answer read as {@code [severity]: text} lines (0 emergency to 7 debug); lines without a code
   * are kept with severity -1.
   */
  record Answer(List<Line> lines) {
    private static final Pattern NUMBERED = Pattern.compile("\\[([0-7])\\]:\\s?(.*)");

    record Line(int severity, String text) {
      /** Emergency, alert, critical or error: HAProxy did not do what it was asked. */
      boolean isRefusal() {
        return severity >= 0 && severity <= 3;
      }

      @Override
      public String toString() {
        return severity < 0 ? text : "[" + severity + "]: " + text;
      }
    }

    static Answer parse(String text) {
      List<Line> lines = new ArrayList<>();
      for (String raw : text.split("\n")) {
        String line = raw.strip();
        if (line.isEmpty()) {
          continue;
        }
        Matcher m = NUMBERED.matcher(line);
        lines.add(
            m.matches() ? new Line(Integer.parseInt(m.group(1)), m.group(2)) : new Line(-1, line));
      }
      return new Answer(List.copyOf(lines));
    }

    /** The first line that refuses, if any. */
    Optional<Line> refusal() {
      return lines.stream().filter(Line::isRefusal).findFirst();
    }
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
