package io.haproxyconfd.adapters.haproxy;

import io.haproxyconfd.ports.DaemonThreads;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Carries HAProxy's log from a FIFO in the state directory to where operators read it: access lines
 * (one per HTTP request or TCP connection) to the daemon's standard output, HAProxy's own events
 * ("Server web/s1 is DOWN", "Proxy http stopped") to the daemon's log. HAProxy cannot keep the two
 * apart itself (both go through the same loggers), and a JSON access log must hold nothing but JSON
 * lines.
 *
 * <p>HAProxy holds the FIFO open for reading and writing (so its writes never block and never fail
 * while no daemon reads: they are dropped once the pipe is full), which lets a restarted daemon
 * that adopts a running HAProxy read its log again.
 */
final class AccessLog implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger("haproxy");

  /**
   * A connection error, which HAProxy 2.6 writes in a fixed format: {@code ... [date] http/1: ...}.
   */
  private static final Pattern CONNECTION_ERROR =
      Pattern.compile("^\\S+ \\[[^\\]]+\\] [^ /]+/[^ :]+: ");

  private final Path fifo;
  private final boolean json;
  private final PrintStream out;
  private final Thread thread;
  private volatile boolean closed;

  private AccessLog(Path fifo, boolean json, PrintStream out) {
    this.fifo = fifo;
    this.json = json;
    this.out = out;
    this.thread = DaemonThreads.create("haproxy-log", this::pump);
  }

  /** The FIFO HAProxy writes its log to, made if missing. */
  static Path fifo(Path runDir) throws IOException {
    Path fifo = runDir.resolve("log.fifo");
    if (!Files.exists(fifo)) {
      try {
        Process p = new ProcessBuilder("mkfifo", "-m", "600", fifo.toString()).start();
        if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
          throw new IOException("mkfifo " + fifo + " failed");
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException("interrupted making " + fifo, e);
      }
    }
    return fifo;
  }

  /**
   * Starts reading the FIFO on a daemon thread; access lines go to {@code out}. With {@code json},
   * every line that is not a JSON object counts as an event.
   */
  static AccessLog start(Path fifo, boolean json, PrintStream out) {
    AccessLog log = new AccessLog(fifo, json, out);
    log.thread.start();
    return log;
  }

  private void pump() {
    try (BufferedReader in =
        new BufferedReader(
            new InputStreamReader(Files.newInputStream(fifo), StandardCharsets.UTF_8))) {
      String line;
      while (!closed && (line = in.readLine()) != null) {
        if (isEvent(line) || (json && !line.startsWith("{"))) {
          LOG.info("{}", line);
        } else {
          out.println(line);
        }
      }
    } catch (IOException e) {
      if (!closed) {
        LOG.warn("stopped reading HAProxy's log from {}: {}", fifo, e.getMessage());
      }
    }
  }

  /**
   * HAProxy's own messages, as opposed to access lines: those start with the client's address
   * (text) or with '{' (JSON).
   */
  static boolean isEvent(String line) {
    return line.startsWith("Proxy ")
        || line.startsWith("Server ")
        || line.startsWith("backend ")
        || line.startsWith("Backup Server ")
        || CONNECTION_ERROR.matcher(line).find();
  }

  @Override
  public void close() {
    closed = true;
    thread.interrupt();
  }
}
