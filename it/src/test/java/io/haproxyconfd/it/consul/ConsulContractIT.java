package io.haproxyconfd.it.consul;

import com.ecwid.consul.v1.ConsulClient;
import io.haproxyconfd.adapters.consul.Consul;
import io.haproxyconfd.domain.ProxyId;
import io.haproxyconfd.ports.KeyValueSource;
import io.haproxyconfd.ports.KeyValueSourceContract;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * Consul's KV source keeps the promises of {@link KeyValueSource}: against the emulator, or against
 * a real agent when CONSUL_HTTP_ADDR is set (with CONSUL_HTTP_TOKEN if its ACLs need one).
 */
class ConsulContractIT extends KeyValueSourceContract {
  static ConsulTarget consul;
  static ConsulClient writer;

  @BeforeAll
  static void start() throws Exception {
    consul = ConsulTarget.start();
    writer = consul.writer();
  }

  @AfterAll
  static void stop() {
    consul.close();
  }

  @Override
  protected KeyValueSource newSource() {
    return Consul.keyValueSource(consul.settings());
  }

  @Override
  protected void put(ProxyId proxy, String key, String value) {
    writer.setKVValue(proxy.folder() + "/" + key, value, ConsulTarget.TOKEN, null, null);
  }

  @Override
  protected void deleteFolder(ProxyId proxy, String folder) {
    writer.deleteKVValues(proxy.folder() + "/" + folder, ConsulTarget.TOKEN);
  }
}
