package io.haproxyconfd.adapters.haproxy;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * What HAProxy itself holds, read from its runtime API in a state directory: for tests that must
 * check HAProxy's own view, not what the daemon says it handed over.
 */
public final class HaproxySocket {
  private final RuntimeApi api;

  public HaproxySocket(Path stateDir) {
    this.api = new RuntimeApi(stateDir.resolve("run/admin.sock"));
  }

  /**
   * One server line of {@code show servers state}.
   *
   * @param opState 0 stopped (DOWN or in maintenance), 1 starting, 2 running, 3 stopping
   * @param adminState bit 0x01: forced maintenance (an empty slot); see {@link ServerStates.Server}
   */
  public record Server(
      String backend, String name, String address, int port, int opState, int adminState) {
    /** Filled: not in forced maintenance. */
    public boolean filled() {
      return (adminState & 0x01) == 0;
    }

    public boolean up() {
      return opState == 2;
    }

    public String endpoint() {
      return (address.contains(":") ? "[" + address + "]" : address) + ":" + port;
    }
  }

  public List<Server> servers() throws IOException {
    return ServerStates.parse(api.send("show servers state")).stream()
        .map(
            s ->
                new Server(
                    s.backend(), s.name(), s.address(), s.port(), s.opState(), s.adminState()))
        .toList();
  }

  /** The servers of one backend ({@code http-web}, {@code tcp-db}). */
  public List<Server> servers(String backend) throws IOException {
    return servers().stream().filter(s -> s.backend().equals(backend)).toList();
  }

  /** Any runtime API command's answer. */
  public String send(String command) throws IOException {
    return api.send(command);
  }
}
