package io.haproxyconfd.adapters.etcd;

import io.etcd.jetcd.Client;
import io.etcd.jetcd.options.DeleteOption;
import io.haproxyconfd.domain.ProxyId;
import io.haproxyconfd.ports.KeyValueSource;
import io.haproxyconfd.ports.KeyValueSourceContract;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The etcd v3 source keeps the promises of every key source; keys written with jetcd. */
class EtcdV3ContractIT extends KeyValueSourceContract {
  @RegisterExtension static EtcdCluster etcd = EtcdCluster.of(1);

  private Client writer;

  @Override
  protected KeyValueSource newSource() {
    if (writer == null) {
      writer = EtcdStore.client(EtcdSettings.of(etcd.endpoints()));
    }
    return EtcdStore.connect(EtcdSettings.of(etcd.endpoints()));
  }

  /** Its watch mirrors the prefix, and knows which keys changed. */
  @Override
  protected boolean knowsChanges() {
    return true;
  }

  @Override
  protected void put(ProxyId proxy, String key, String value) throws Exception {
    writer
        .getKVClient()
        .put(EtcdStore.bytes("/" + proxy.folder() + "/" + key), EtcdStore.bytes(value))
        .get(5, TimeUnit.SECONDS);
  }

  @Override
  protected void deleteFolder(ProxyId proxy, String folder) throws Exception {
    writer
        .getKVClient()
        .delete(
            EtcdStore.bytes("/" + proxy.folder() + "/" + folder),
            DeleteOption.builder().isPrefix(true).build())
        .get(5, TimeUnit.SECONDS);
  }

  @org.junit.jupiter.api.AfterEach
  void closeWriter() {
    writer.close();
    writer = null;
  }
}
