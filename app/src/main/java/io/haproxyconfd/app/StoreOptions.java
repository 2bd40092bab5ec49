package io.haproxyconfd.app;

import com.google.inject.Module;
import io.haproxyconfd.adapters.consul.ConsulSettings;
import io.haproxyconfd.adapters.dns.DnsSettings;
import io.haproxyconfd.adapters.etcd.EtcdSettings;
import io.haproxyconfd.adapters.etcd.EtcdStore;
import io.haproxyconfd.domain.ParseOptions;
import io.haproxyconfd.domain.ProxyId;
import io.haproxyconfd.ports.KeyValueSource;
import io.haproxyconfd.ports.StoreException;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import picocli.CommandLine.Option;

/**
 * Where the keys are and how backends are found: flags, each with the seed image's environment
 * variable (or one in its style) as default.
 */
final class StoreOptions {
  enum Store {
    etcd,
    consul
  }

  enum Resolver {
    dns,
    keys,
    consul
  }

  @Option(
      names = "--haproxy-id",
      defaultValue = "${env:HAPROXY_ID}",
      description =
          "This proxy's id; keys are read under /haproxy-<id>/ (env HAPROXY_ID or HAPROXY-ID).")
  String haproxyId;

  @Option(
      names = "--prefix",
      defaultValue = "${env:CONFD_PREFIX:-${env:ETCD_PATH}}",
      description =
          "Read the keys under this prefix instead of /haproxy-<HAPROXY_ID>/, e.g."
              + " /kontena/haproxy/lb1 for Kontena's load balancer; HAPROXY_ID is then optional"
              + " (env CONFD_PREFIX or ETCD_PATH). Without it and HAPROXY_ID, Kontena's"
              + " KONTENA_STACK_NAME and KONTENA_SERVICE_NAME name it as Kontena's load balancer"
              + " did: /kontena/haproxy/<stack>/<service>.")
  String prefix;

  @Option(
      names = "--store",
      defaultValue = "${env:CONFD_STORE:-etcd}",
      description =
          "Key-value store: ${COMPLETION-CANDIDATES} (env CONFD_STORE; default ${DEFAULT-VALUE}).")
  Store store;

  @Option(
      names = "--consul-address",
      defaultValue = "${env:CONSUL_HTTP_ADDR:-127.0.0.1:8500}",
      description =
          "Consul agent, host:port or http://host:port (env CONSUL_HTTP_ADDR; default ${DEFAULT-VALUE}).")
  String consulAddress;

  @Option(
      names = "--consul-token",
      defaultValue = "${env:CONSUL_HTTP_TOKEN}",
      description = "Consul ACL token (env CONSUL_HTTP_TOKEN).")
  String consulToken;

  @Option(
      names = "--consul-datacenter",
      defaultValue = "${env:CONSUL_DATACENTER}",
      description = "Consul datacenter; the agent's own by default (env CONSUL_DATACENTER).")
  String consulDatacenter;

  @Option(
      names = "--etcd-endpoints",
      defaultValue = "${env:ETCD_NODE:-http://127.0.0.1:2379}",
      description =
          "etcd endpoints, comma-separated; host:port or http(s)://host:port (env ETCD_NODE).")
  String etcdEndpoints;

  @Option(
      names = "--etcd-api",
      defaultValue = "${env:ETCD_API}",
      description =
          "etcd API the keys are kept in: 3, or 2 for the seed image's and Kontena's stores"
              + " (etcdctl set/mkdir). Default 3, and a hint in the log when the keys are only in"
              + " v2 (env ETCD_API).")
  Integer etcdApi;

  @Option(
      names = "--etcd-user",
      defaultValue = "${env:ETCD_USER}",
      description = "etcd user (env ETCD_USER).")
  String etcdUser;

  @Option(
      names = "--etcd-password",
      defaultValue = "${env:ETCD_PASSWORD}",
      description = "etcd password (env ETCD_PASSWORD).")
  String etcdPassword;

  @Option(
      names = "--etcd-ca",
      defaultValue = "${env:ETCD_CA}",
      description = "CA file for etcd TLS (env ETCD_CA).")
  Path etcdCa;

  @Option(
      names = "--etcd-cert",
      defaultValue = "${env:ETCD_CERT}",
      description = "Client certificate for etcd (env ETCD_CERT).")
  Path etcdCert;

  @Option(
      names = "--etcd-key",
      defaultValue = "${env:ETCD_KEY}",
      description = "Client key for etcd (env ETCD_KEY).")
  Path etcdKey;

  @Option(
      names = "--resolver",
      defaultValue = "${env:CONFD_RESOLVER:-dns}",
      description =
          "How backends are found: dns (A/AAAA of the service name, with its port), keys (only"
              + " agent-written <instance> keys) or consul (passing instances in Consul's catalog)."
              + " Agent keys win in every mode (env CONFD_RESOLVER; default ${DEFAULT-VALUE}).")
  Resolver resolver;

  @Option(
      names = "--dns-servers",
      defaultValue = "${env:DNS_SERVERS}",
      description =
          "DNS servers, comma-separated, host or host:port; the search domains still come from"
              + " /etc/resolv.conf (env DNS_SERVERS; default: /etc/resolv.conf's servers).")
  String dnsServers;

  @Option(
      names = "--dns-srv",
      defaultValue = "${env:DNS_SRV:-false}",
      description =
          "Look up _http._tcp.<service> SRV records, so that ports come from DNS (env DNS_SRV).")
  boolean dnsSrv;

  @Option(
      names = "--dns-records",
      defaultValue = "${env:DNS_RECORDS:-both}",
      converter = RecordsConverter.class,
      description =
          "Address records to ask for: A, AAAA or both; an IPv4-only site halves its queries with A"
              + " (env DNS_RECORDS; default ${DEFAULT-VALUE}).")
  DnsSettings.Records dnsRecords;

  @Option(
      names = "--dns-nxdomain-grace",
      defaultValue = "${env:DNS_NXDOMAIN_GRACE:-30s}",
      converter = DurationConverter.class,
      description =
          "How long a name that stops resolving (NXDOMAIN) keeps its last addresses, so that a"
              + " redeploy's gap in DNS does not empty the backend (env DNS_NXDOMAIN_GRACE; default"
              + " ${DEFAULT-VALUE}).")
  Duration dnsNxdomainGrace;

  @Option(
      names = "--dns-start-timeout",
      defaultValue = "${env:DNS_START_TIMEOUT:-30s}",
      converter = DurationConverter.class,
      description =
          "How long the first config waits for every name's first answer; names still unanswered"
              + " then start without backends and the daemon stays not ready until they answer"
              + " (env DNS_START_TIMEOUT; default ${DEFAULT-VALUE}).")
  Duration dnsStartTimeout;

  @Option(
      names = "--dns-max-in-flight",
      defaultValue = "${env:DNS_MAX_IN_FLIGHT:-64}",
      description =
          "Most DNS lookups running at once; the rest wait their turn, first lookups ahead of"
              + " refreshes (env DNS_MAX_IN_FLIGHT; default ${DEFAULT-VALUE}).")
  int dnsMaxInFlight;

  @Option(
      names = "--agent-host-names",
      defaultValue = "${env:AGENT_HOST_NAMES:-false}",
      description =
          "Let agent keys name host:port (resolved once through DNS) as well as ip:port (env"
              + " AGENT_HOST_NAMES).")
  boolean agentHostNames;

  @Option(
      names = "--allow-custom-settings",
      defaultValue = "${env:ALLOW_CUSTOM_SETTINGS:-false}",
      description = "Honour custom_settings keys (raw HAProxy lines) (env ALLOW_CUSTOM_SETTINGS).")
  boolean allowCustomSettings;

  @Option(
      names = "--store-timeout",
      defaultValue = "${env:STORE_TIMEOUT:-5s}",
      converter = DurationConverter.class,
      description =
          "Deadline of each call to the store (env STORE_TIMEOUT; default ${DEFAULT-VALUE}).")
  Duration storeTimeout;

  ProxyId proxyId() {
    String id = haproxyId != null ? haproxyId : System.getenv("HAPROXY-ID");
    if (prefix != null && !prefix.isBlank()) {
      return ProxyId.atPrefix(prefix, id == null || id.isBlank() ? null : id.strip());
    }
    if (id == null || id.isBlank()) {
      return kontenaPrefix(System.getenv())
          .map(p -> ProxyId.atPrefix(p, null))
          .orElseThrow(
              () -> new IllegalArgumentException("--haproxy-id (or HAPROXY_ID) is required"));
    }
    return new ProxyId(id.strip());
  }

  /**
   * Where Kontena's load balancer read its keys: {@code /kontena/haproxy/<stack>/<service>}, or
   * {@code /kontena/haproxy/<service>} outside a stack (its entrypoint's rule).
   */
  static Optional<String> kontenaPrefix(Map<String, String> env) {
    String service = env.get("KONTENA_SERVICE_NAME");
    if (service == null || service.isBlank()) {
      return Optional.empty();
    }
    String stack = env.get("KONTENA_STACK_NAME");
    return Optional.of(
        "/kontena/haproxy/"
            + (stack == null || stack.isBlank() || stack.equals("null") ? "" : stack.strip() + "/")
            + service.strip());
  }

  /** How to read the keys at {@code now}, for a proxy listening as {@code proxy} says. */
  ParseOptions parseOptions(Instant now, ProxyOptions proxy) {
    ParseOptions.Discovery discovery =
        switch (resolver) {
          case keys -> ParseOptions.Discovery.KEYS;
          case consul -> ParseOptions.Discovery.CATALOG;
          case dns -> ParseOptions.Discovery.DNS;
        };
    if (dnsSrv) {
      discovery = ParseOptions.Discovery.DNS_SRV;
    }
    return ParseOptions.defaults(now)
        .withReservedPorts(proxy.reservedPorts())
        .withDiscovery(discovery)
        .withCustomSettingsAllowed(allowCustomSettings)
        .withAgentHostNames(agentHostNames);
  }

  /** The Guice modules for the chosen store and resolver: the one place that choice is made. */
  List<Module> modules() throws IOException {
    Module storeModule =
        switch (store) {
          case etcd ->
              etcdApi() == 2 ? new EtcdV2Module(etcdSettings()) : new EtcdModule(etcdSettings());
          case consul -> new ConsulModule(consulSettings());
        };
    Module resolverModule =
        switch (resolver) {
          case dns -> new DnsModule(dnsSettings());
          case keys -> new AgentKeysModule();
          case consul -> new ConsulCatalogModule(consulSettings());
        };
    Module namesModule =
        new AgentNamesModule(agentHostNames ? Optional.of(dnsSettings()) : Optional.empty());
    return List.of(storeModule, resolverModule, namesModule);
  }

  /** 3 or 2; 3 when not set. */
  int etcdApi() {
    if (etcdApi == null) {
      return 3;
    }
    if (etcdApi != 2 && etcdApi != 3) {
      throw new IllegalArgumentException("ETCD_API must be 2 or 3, not " + etcdApi);
    }
    return etcdApi;
  }

  /**
   * When the etcd API was left to its default and the v3 prefix is empty: whether the keys are in
   * etcd's v2 API instead, said in one line naming the setting to use; empty otherwise.
   */
  Optional<String> v2Hint(ProxyId proxy, int v3Keys) {
    if (store != Store.etcd || etcdApi != null || v3Keys > 0) {
      return Optional.empty();
    }
    try (KeyValueSource v2 = EtcdStore.connectV2(etcdSettings())) {
      int found = v2.read(proxy).entries().size();
      return found == 0
          ? Optional.empty()
          : Optional.of(
              "no keys under /"
                  + proxy.folder()
                  + "/ in etcd's v3 API, but "
                  + found
                  + " in its v2 API (etcdctl set/mkdir): set ETCD_API=2 (or --etcd-api 2) to"
                  + " read them, or copy them to v3 with 'haproxy-confd migrate'");
    } catch (StoreException | RuntimeException e) {
      return Optional.empty(); // no v2 API there (etcd without --enable-v2): nothing to say
    }
  }

  EtcdSettings etcdSettings() {
    EtcdSettings s = EtcdSettings.of(etcdEndpoints).withTimeout(storeTimeout);
    if (etcdUser != null || etcdPassword != null) {
      if (etcdUser == null || etcdPassword == null) {
        throw new IllegalArgumentException("--etcd-user and --etcd-password go together");
      }
      s = s.withUser(etcdUser, etcdPassword);
    }
    if (etcdCa != null) {
      s = s.withTls(etcdCa, Optional.ofNullable(etcdCert), Optional.ofNullable(etcdKey));
    } else if (etcdCert != null || etcdKey != null) {
      throw new IllegalArgumentException("--etcd-cert and --etcd-key need --etcd-ca");
    }
    return s;
  }

  ConsulSettings consulSettings() {
    ConsulSettings s =
        ConsulSettings.of(consulAddress).withTimings(java.time.Duration.ofMinutes(5), storeTimeout);
    if (consulToken != null && !consulToken.isBlank()) {
      s = s.withToken(consulToken);
    }
    if (consulDatacenter != null && !consulDatacenter.isBlank()) {
      s = s.withDatacenter(consulDatacenter);
    }
    return s;
  }

  DnsSettings dnsSettings() throws IOException {
    DnsSettings s =
        dnsServers == null || dnsServers.isBlank()
            ? fromResolvConf(Path.of("/etc/resolv.conf"))
            : DnsSettings.ofServers(dnsServers).withSearchOf(Path.of("/etc/resolv.conf"));
    if (dnsMaxInFlight < 1 || dnsMaxInFlight > 4096) {
      throw new IllegalArgumentException(
          "--dns-max-in-flight (DNS_MAX_IN_FLIGHT) " + dnsMaxInFlight + ": expected 1 to 4096");
    }
    if (dnsStartTimeout.isZero()) {
      throw new IllegalArgumentException(
          "--dns-start-timeout (DNS_START_TIMEOUT) must be more than 0");
    }
    return s.withSrv(dnsSrv)
        .withTimings(s.timeout(), s.ttlFloor(), s.ttlCeiling(), dnsNxdomainGrace)
        .withLoad(dnsRecords, dnsMaxInFlight, dnsStartTimeout);
  }

  private static DnsSettings fromResolvConf(Path file) {
    try {
      return DnsSettings.fromResolvConf(file);
    } catch (IOException e) {
      String why =
          e instanceof java.nio.file.NoSuchFileException
              ? file + " does not exist"
              : e instanceof java.nio.file.AccessDeniedException
                  ? file + " cannot be read"
                  : e.getMessage();
      throw new SetupException(
          ExitCode.NO_NAMESERVER,
          "no nameserver to ask: "
              + why
              + ", and DNS_SERVERS is not set; backends are found by DNS (CONFD_RESOLVER=dns):"
              + " set DNS_SERVERS, or CONFD_RESOLVER=keys to take them from agent keys");
    }
  }

  /** {@code A}, {@code AAAA} or {@code both}, with picocli's error naming the option. */
  static final class RecordsConverter
      implements picocli.CommandLine.ITypeConverter<DnsSettings.Records> {
    @Override
    public DnsSettings.Records convert(String value) {
      try {
        return DnsSettings.Records.parse(value);
      } catch (IllegalArgumentException e) {
        throw new picocli.CommandLine.TypeConversionException(
            "'" + value + "' is not A, AAAA or both");
      }
    }
  }
}
