package io.haproxyconfd.adapters.consul;

import com.ecwid.consul.v1.ConsulClient;
import com.ecwid.consul.v1.ConsulRawClient;
import com.ecwid.consul.v1.OperationException;
import io.haproxyconfd.ports.BackendResolver;
import io.haproxyconfd.ports.KeyValueSource;
import io.haproxyconfd.ports.StoreException;
import java.time.Duration;
import org.apache.http.client.config.RequestConfig;
import org.apache.http.impl.client.HttpClients;

/** Makes the Consul {@link KeyValueSource} and the catalog {@link BackendResolver}. */
public final class Consul {
  private Consul() {}

  /** Keys under {@code haproxy-<id>/}, read with recurse and watched with blocking queries. */
  public static KeyValueSource keyValueSource(ConsulSettings settings) {
    return new ConsulKeyValueSource(
        settings, client(settings, settings.timeout()), client(settings, watchTimeout(settings)));
  }

  /** Backends: the instances Consul's health endpoint reports as passing. */
  public static BackendResolver catalog(ConsulSettings settings) {
    return new ConsulCatalogResolver(
        settings, client(settings, settings.timeout()), client(settings, watchTimeout(settings)));
  }

  private static Duration watchTimeout(ConsulSettings settings) {
    // Consul adds up to wait/16 of jitter to a blocking query.
    return settings.blockingWait().plus(settings.blockingWait().dividedBy(16)).plusSeconds(10);
  }

  /** A client whose socket timeout is the deadline: consul-api's own is 10 minutes. */
  static ConsulClient client(ConsulSettings settings, Duration socketTimeout) {
    RequestConfig config =
        RequestConfig.custom()
            .setConnectTimeout((int) settings.timeout().toMillis())
            .setConnectionRequestTimeout((int) settings.timeout().toMillis())
            .setSocketTimeout((int) socketTimeout.toMillis())
            .build();
    var http =
        HttpClients.custom()
            .setDefaultRequestConfig(config)
            .setMaxConnPerRoute(64)
            .setMaxConnTotal(256)
            .build();
    String host = settings.address().getScheme() + "://" + settings.address().getHost();
    return new ConsulClient(new ConsulRawClient(host, settings.address().getPort(), http));
  }

  /** 401 and 403 (a missing or wrong ACL token) are permanent; the rest may pass. */
  static StoreException classify(RuntimeException e, String what) {
    if (e instanceof OperationException op
        && (op.getStatusCode() == 403 || op.getStatusCode() == 401)) {
      return StoreException.refused(
          "Consul refused "
              + what
              + " ("
              + op.getStatusCode()
              + " "
              + op.getStatusContent().strip()
              + "): check CONSUL_HTTP_TOKEN",
          e);
    }
    Throwable cause = e.getCause() != null ? e.getCause() : e;
    return StoreException.unavailable(
        "Consul unavailable for " + what + ": " + cause.getMessage(), e);
  }
}
