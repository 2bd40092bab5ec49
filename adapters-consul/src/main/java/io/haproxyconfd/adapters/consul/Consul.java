package io.haproxyconfd.adapters.consul;

import com.ecwid.consul.v1.ConsulClient;
import com.ecwid.consul.v1.ConsulRawClient;
import com.ecwid.consul.v1.OperationException;
import io.haproxyconfd.ports.BackendResolver;
import io.haproxyconfd.ports.KeyValueSource;
import io.haproxyconfd.ports.StoreException;
import java.io.IOException;
import java.time.Duration;
import org.apache.http.Header;
import org.apache.http.HttpRequestInterceptor;
import org.apache.http.HttpResponseInterceptor;
import org.apache.http.client.config.RequestConfig;
import org.apache.http.impl.client.HttpClients;

/** Makes the Consul {@link KeyValueSource} and the catalog {@link BackendResolver}. */
public final class Consul {
  private Consul() {}

  /** Keys under {@code haproxy-<id>/}, read with recurse and watched with blocking queries. */
  public static KeyValueSource keyValueSource(ConsulSettings settings) {
    return new ConsulKeyValueSource(
        settings,
        client(settings, settings.timeout(), 1, true),
        client(settings, watchTimeout(settings), 1, false));
  }

  /** Backends: the instances Consul's health endpoint reports as passing. */
  public static BackendResolver catalog(ConsulSettings settings) {
    return new ConsulCatalogResolver(
        settings,
        client(settings, settings.timeout(), ConsulCatalogResolver.READERS, true),
        client(settings, watchTimeout(settings), 2, false));
  }

  private static Duration watchTimeout(ConsulSettings settings) {
    // Consul adds up to wait/16 of jitter to a blocking query.
    return settings.blockingWait().plus(settings.blockingWait().dividedBy(16)).plusSeconds(10);
  }

  /**
   * A client whose socket timeout is the deadline (consul-api's own is 10 minutes), which sends the
   * ACL token in the {@code X-Consul-Token} header (consul-api would put it in the query,
   * deprecated since Consul 1.15), and which turns an answer that Consul's ACLs filtered into an
   * error: such an answer looks like an empty or smaller one, and must never be taken for one.
   *
   * @param connections the most connections it opens to the agent
   * @param rejectFiltered whether an answer the ACLs filtered is an error: so for reads; a watch
   *     only signals, and the read it leads to decides
   */
  static ConsulClient client(
      ConsulSettings settings, Duration socketTimeout, int connections, boolean rejectFiltered) {
    RequestConfig config =
        RequestConfig.custom()
            .setConnectTimeout((int) settings.timeout().toMillis())
            .setConnectionRequestTimeout((int) settings.timeout().toMillis())
            .setSocketTimeout((int) socketTimeout.toMillis())
            .build();
    var http =
        HttpClients.custom()
            .setDefaultRequestConfig(config)
            .setMaxConnPerRoute(connections)
            .setMaxConnTotal(connections)
            .addInterceptorLast(
                (HttpRequestInterceptor)
                    (request, context) ->
                        settings.token().ifPresent(t -> request.setHeader(TOKEN_HEADER, t)))
            .addInterceptorLast(
                (HttpResponseInterceptor)
                    (response, context) -> {
                      Header filtered = response.getFirstHeader(FILTERED_HEADER);
                      if (rejectFiltered
                          && filtered != null
                          && "true".equalsIgnoreCase(filtered.getValue())) {
                        throw new AclFiltered();
                      }
                    })
            .build();
    String host = settings.address().getScheme() + "://" + settings.address().getHost();
    return new ConsulClient(new ConsulRawClient(host, settings.address().getPort(), http));
  }

  static final String TOKEN_HEADER = "X-Consul-Token";
  static final String FILTERED_HEADER = "X-Consul-Results-Filtered-By-ACLs";

  /** Consul's ACLs left something out of an answer. */
  static final class AclFiltered extends IOException {
    AclFiltered() {
      super("Consul's ACLs filtered the answer (" + FILTERED_HEADER + ")");
    }
  }

  static boolean isAclFiltered(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof AclFiltered) {
        return true;
      }
    }
    return false;
  }

  /**
   * A missing, wrong or under-privileged token (401, 403, or an answer the ACLs filtered) and an
   * unknown datacenter are permanent; the rest may pass.
   */
  static StoreException classify(RuntimeException e, String what) {
    if (isAclFiltered(e)) {
      return StoreException.refused(
          "Consul's ACLs hid part of "
              + what
              + " from this token: give CONSUL_HTTP_TOKEN read rights on it (an answer with parts"
              + " left out is never used)",
          e);
    }
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
    if (e instanceof OperationException op
        && op.getStatusCode() == 500
        && String.valueOf(op.getStatusContent()).contains("No path to datacenter")) {
      return StoreException.refused(
          "Consul knows no such datacenter for " + what + ": check CONSUL_DATACENTER", e);
    }
    Throwable cause = e.getCause() != null ? e.getCause() : e;
    return StoreException.unavailable(
        "Consul unavailable for " + what + ": " + cause.getMessage(), e);
  }
}
