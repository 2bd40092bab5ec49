package io.haproxyconfd.adapters.haproxy;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.UnaryOperator;

/**
 * A relay on a Unix socket in front of HAProxy's admin socket, for tests that need HAProxy to
 * refuse something the configurator sends: each request (one connection, commands until EOF) goes
 * to HAProxy through {@code rewrite}, and HAProxy's answer comes back unchanged and is kept.
 */
final class SocketRelay implements AutoCloseable {
  private final ServerSocketChannel server;
  private final Path path;
  private final Path target;
  private final Object fileKey;
  private final Thread thread;
  private final List<String> answers = new CopyOnWriteArrayList<>();

  /**
   * Moves HAProxy's socket at {@code path} to {@code target} and relays from {@code path}; puts it
   * back if the relay cannot start, so that later tests still find HAProxy's socket.
   */
  static SocketRelay inFrontOf(Path path, Path target, UnaryOperator<String> rewrite)
      throws IOException {
    Files.move(path, target);
    try {
      return new SocketRelay(path, target, rewrite);
    } catch (IOException | RuntimeException e) {
      Files.deleteIfExists(path);
      Files.move(target, path);
      throw e;
    }
  }

  private SocketRelay(Path path, Path target, UnaryOperator<String> rewrite) throws IOException {
    this.path = path;
    this.server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
    server.bind(UnixDomainSocketAddress.of(path));
    this.target = target;
    this.fileKey = fileKey(path);
    RuntimeApi haproxy = new RuntimeApi(target);
    this.thread =
        new Thread(
            () -> {
              while (server.isOpen()) {
                try (SocketChannel client = server.accept()) {
                  String request = RuntimeApi.readAll(client).strip();
                  String answer = haproxy.send(rewrite.apply(request));
                  answers.add(answer);
                  client.write(ByteBuffer.wrap(answer.getBytes(StandardCharsets.US_ASCII)));
                } catch (IOException closed) {
                  return;
                }
              }
            },
            "socket-relay");
    thread.setDaemon(true);
    thread.start();
  }

  /** HAProxy's answers so far, one per relayed request. */
  List<String> answers() {
    return answers;
  }

  private static Object fileKey(Path p) throws IOException {
    return Files.readAttributes(p, java.nio.file.attribute.BasicFileAttributes.class).fileKey();
  }

  /**
   * Stops relaying and gives the path back to HAProxy's socket, unless HAProxy has bound a new one
   * there meanwhile (a reload that did not inherit the old listener).
   */
  @Override
  public void close() throws IOException {
    server.close();
    if (Files.exists(path) && fileKey.equals(fileKey(path))) {
      Files.delete(path);
      if (Files.exists(target)) {
        Files.move(target, path);
      }
    }
  }
}
