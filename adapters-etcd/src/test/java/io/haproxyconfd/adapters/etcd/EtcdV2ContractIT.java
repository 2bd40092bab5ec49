package io.haproxyconfd.adapters.etcd;

import io.haproxyconfd.domain.ProxyId;
import io.haproxyconfd.ports.KeyValueSource;
import io.haproxyconfd.ports.KeyValueSourceContract;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The etcd v2 source keeps the promises of every key source; keys written through v2's HTTP API, as
 * the seed images' users wrote them (etcd started with --enable-v2).
 */
class EtcdV2ContractIT extends KeyValueSourceContract {
  @RegisterExtension static EtcdCluster etcd = EtcdCluster.of(1);

  private final HttpClient http = HttpClient.newHttpClient();

  @Override
  protected KeyValueSource newSource() {
    return EtcdStore.connectV2(EtcdSettings.of(etcd.endpoints()));
  }

  private void send(HttpRequest.Builder request) throws IOException, InterruptedException {
    HttpResponse<String> r = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() / 100 != 2) {
      throw new IOException(r.statusCode() + " " + r.body());
    }
  }

  @Override
  protected void put(ProxyId proxy, String key, String value) throws Exception {
    send(
        HttpRequest.newBuilder(
                URI.create(etcd.endpoint(0) + "/v2/keys/" + proxy.folder() + "/" + key))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .PUT(
                HttpRequest.BodyPublishers.ofString(
                    "value=" + URLEncoder.encode(value, StandardCharsets.UTF_8))));
  }

  @Override
  protected void deleteFolder(ProxyId proxy, String folder) throws Exception {
    String dir = folder.endsWith("/") ? folder.substring(0, folder.length() - 1) : folder;
    send(
        HttpRequest.newBuilder(
                URI.create(
                    etcd.endpoint(0)
                        + "/v2/keys/"
                        + proxy.folder()
                        + "/"
                        + dir
                        + "?recursive=true&dir=true"))
            .DELETE());
  }
}
