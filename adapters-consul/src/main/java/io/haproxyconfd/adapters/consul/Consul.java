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
import org.apache.http.impl.client.CloseableHttpClient;
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

  /** A consul-api client over an HTTP client of our own, which {@link #close} closes. */
  record Agent(ConsulClient api, ConsulRawClient raw, CloseableHttpClient http)
      implements AutoCloseable {
    @Override
    public void close() {
      try {
        http.close();
      } catch (IOException e) {
        // closing: nothing left to do with it
      }
    }
  }

  /** Backends: the instances Consul's health endpoint reports as passing. */
  public static BackendResolver catalog(ConsulSettings settings) {
    return new ConsulCatalogResolver(
        settings,
        client(settings, settings.timeout(), ConsulCatalogResolver.READERS, true),
        client(settings, watchTimeout(settings), 3, false));
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
  static Agent client(
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
    ConsulRawClient raw = new ConsulRawClient(host, settings.address().getPort(), http);
    return new Agent(new ConsulClient(raw), raw, http);
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

  /**
   * Whether Consul has ACLs on while no token is set. Consul then does not say what its ACLs hid
   * (it marks filtered answers only for a request that presented a token), so no answer can be
   * trusted: reads are refused until CONSUL_HTTP_TOKEN is set ({@code anonymous} names the
   * anonymous token). Asked once, of {@code /v1/acl/token/self}: 401 "ACL support disabled" means
   * ACLs are off.
   */
  static final class AclGuard {
    private final ConsulSettings settings;
    private final Agent agent;
    private volatile Boolean refuses;

    AclGuard(ConsulSettings settings, Agent agent) {
      this.settings = settings;
      this.agent = agent;
    }

    /** Why reads must be refused, if they must; asks Consul the first time. */
    java.util.Optional<String> refusal() {
      if (settings.token().isPresent()) {
        return java.util.Optional.empty();
      }
      if (refuses == null) {
        var r = agent.raw().makeGetRequest("/v1/acl/token/self");
        refuses =
            !(r.getStatusCode() == 401
                && String.valueOf(r.getContent()).contains("ACL support disabled"));
      }
      return refuses
          ? java.util.Optional.of(
              "Consul has ACLs on and CONSUL_HTTP_TOKEN is not set, so it would not say what it"
                  + " hides: set CONSUL_HTTP_TOKEN (CONSUL_HTTP_TOKEN=anonymous to read with the"
                  + " anonymous token's rights)")
          : java.util.Optional.empty();
    }
  }
}
