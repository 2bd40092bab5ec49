package io.haproxyconfd.it.consul;

import com.ecwid.consul.v1.ConsulClient;
import io.haproxyconfd.adapters.consul.ConsulSettings;
import java.time.Duration;
import java.util.Optional;

/**
 * The Consul the tests talk to: the emulator, or a real agent when CONSUL_HTTP_ADDR is set (with
 * CONSUL_HTTP_TOKEN if its ACLs need one).
 *
 * @param emulator the emulator, or null against a real agent
 * @param address host:port
 */
record ConsulTarget(ConsulEmulator emulator, String address) implements AutoCloseable {
  static final String REAL = System.getenv("CONSUL_HTTP_ADDR");
  static final String TOKEN = System.getenv("CONSUL_HTTP_TOKEN");

  static ConsulTarget start() throws Exception {
    if (REAL != null) {
      return new ConsulTarget(null, REAL.replaceFirst("^https?://", ""));
    }
    ConsulEmulator e = ConsulEmulator.start(Optional.empty());
    return new ConsulTarget(e, e.address());
  }

  /** The adapter's settings for it: short timings, and the token a real agent may need. */
  ConsulSettings settings() {
    ConsulSettings s =
        ConsulSettings.of(address).withTimings(Duration.ofSeconds(10), Duration.ofSeconds(3));
    return REAL != null && TOKEN != null ? s.withToken(TOKEN) : s;
  }

  /** A consul-api client for the tests' own writes. */
  ConsulClient writer() {
    String[] hp = address.split(":");
    return new ConsulClient(hp[0], Integer.parseInt(hp[1]));
  }

  @Override
  public void close() {
    if (emulator != null) {
      emulator.close();
    }
  }
}
