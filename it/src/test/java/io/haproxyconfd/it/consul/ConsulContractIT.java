package io.haproxyconfd.it.consul;

import com.ecwid.consul.v1.ConsulClient;
import io.haproxyconfd.adapters.consul.Consul;
import io.haproxyconfd.adapters.consul.ConsulSettings;
import io.haproxyconfd.domain.ProxyId;
import io.haproxyconfd.ports.KeyValueSource;
import io.haproxyconfd.ports.KeyValueSourceContract;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * Consul's KV source keeps the promises of {@link KeyValueSource}: against the emulator, or against
 * a real agent when CONSUL_HTTP_ADDR is set (with CONSUL_HTTP_TOKEN if its ACLs need one).
 */
class ConsulContractIT extends KeyValueSourceContract {
  static final String REAL = System.getenv("CONSUL_HTTP_ADDR");
  static final String TOKEN = System.getenv("CONSUL_HTTP_TOKEN");
  static ConsulEmulator emulator;
  static String address;
  static ConsulClient writer;

  @BeforeAll
  static void start() throws Exception {
    if (REAL == null) {
      emulator = ConsulEmulator.start(Optional.empty());
      address = emulator.address();
    } else {
      address = REAL.replaceFirst("^https?://", "");
    }
    String[] hp = address.split(":");
    writer = new ConsulClient(hp[0], Integer.parseInt(hp[1]));
  }

  @AfterAll
  static void stop() {
    if (emulator != null) {
      emulator.close();
    }
  }

  @Override
  protected KeyValueSource newSource() {
    ConsulSettings s =
        ConsulSettings.of(address).withTimings(Duration.ofSeconds(10), Duration.ofSeconds(3));
    return Consul.keyValueSource(REAL != null && TOKEN != null ? s.withToken(TOKEN) : s);
  }

  @Override
  protected void put(ProxyId proxy, String key, String value) {
    writer.setKVValue(proxy.folder() + "/" + key, value, TOKEN, null, null);
  }

  @Override
  protected void deleteFolder(ProxyId proxy, String folder) {
    writer.deleteKVValues(proxy.folder() + "/" + folder, TOKEN);
  }
}
