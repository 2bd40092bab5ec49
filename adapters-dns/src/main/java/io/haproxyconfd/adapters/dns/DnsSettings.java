package io.haproxyconfd.adapters.dns;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Where and how to resolve service names.
 *
 * @param servers DNS servers, asked in order
 * @param search search domains appended to names with fewer than {@code ndots} dots
 * @param timeout how long one lookup may take
 * @param ttlFloor the shortest time between two lookups of one name, whatever the TTL says
 * @param ttlCeiling the longest time an answer is trusted, whatever the TTL says
 * @param emptyGrace how long a name that stopped resolving (NXDOMAIN, no records) keeps its last
 *     addresses
 * @param srv look up {@code _http._tcp.<name>} SRV records (ports from DNS) instead of A/AAAA
 * @param records which address records to ask for: A, AAAA or both
 * @param maxInFlight the most names being looked up at once; the rest wait their turn, first
 *     lookups before refreshes
 * @param startTimeout how long the first resolve waits for every name's first answer
 */
public record DnsSettings(
    List<InetSocketAddress> servers,
    List<String> search,
    int ndots,
    Duration timeout,
    Duration ttlFloor,
    Duration ttlCeiling,
    Duration emptyGrace,
    boolean srv,
    Records records,
    int maxInFlight,
    Duration startTimeout) {

  /** The address records asked for: an IPv4-only site sends half the queries with {@code A}. */
  public enum Records {
    A,
    AAAA,
    BOTH;

    /** {@code A}, {@code AAAA} or {@code both} (also {@code A,AAAA}), in any case. */
    public static Records parse(String text) {
      String t = text.trim().toUpperCase(java.util.Locale.ROOT).replaceAll("\\s", "");
      return switch (t) {
        case "A" -> A;
        case "AAAA" -> AAAA;
        case "BOTH", "A,AAAA", "AAAA,A" -> BOTH;
        default ->
            throw new IllegalArgumentException(
                "DNS records '" + text + "': expected A, AAAA or both");
      };
    }

    boolean a() {
      return this != AAAA;
    }

    boolean aaaa() {
      return this != A;
    }
  }

  /** The defaults for what is not given: both record types, 64 in flight, 30 s to start. */
  public DnsSettings(
      List<InetSocketAddress> servers,
      List<String> search,
      int ndots,
      Duration timeout,
      Duration ttlFloor,
      Duration ttlCeiling,
      Duration emptyGrace,
      boolean srv) {
    this(
        servers,
        search,
        ndots,
        timeout,
        ttlFloor,
        ttlCeiling,
        emptyGrace,
        srv,
        Records.BOTH,
        DEFAULT_MAX_IN_FLIGHT,
        DEFAULT_START_TIMEOUT);
  }

  public static final int DEFAULT_MAX_IN_FLIGHT = 64;
  public static final Duration DEFAULT_START_TIMEOUT = Duration.ofSeconds(30);
  public static final Duration DEFAULT_NXDOMAIN_GRACE = Duration.ofSeconds(30);

  public DnsSettings {
    servers = List.copyOf(servers);
    search = List.copyOf(search);
    if (servers.isEmpty()) {
      throw new IllegalArgumentException("no DNS server given");
    }
    Objects.requireNonNull(timeout, "timeout");
    if (ttlFloor.compareTo(ttlCeiling) > 0) {
      throw new IllegalArgumentException("DNS TTL floor is above the ceiling");
    }
    Objects.requireNonNull(records, "records");
    if (maxInFlight < 1) {
      throw new IllegalArgumentException("DNS lookups in flight must be at least 1");
    }
    if (emptyGrace.isNegative() || startTimeout.isNegative()) {
      throw new IllegalArgumentException("DNS durations must not be negative");
    }
  }

  /** Servers as the seed image's {@code DNS_SERVERS} gives them: {@code 10.0.0.2,10.0.0.3:5353}. */
  public static DnsSettings ofServers(String servers) {
    return defaults(parseServers(servers), List.of(), 1);
  }

  /**
   * Servers, search domains and ndots from a resolv.conf file ({@code nameserver}, {@code search},
   * {@code domain}, {@code options ndots:N}).
   */
  public static DnsSettings fromResolvConf(Path file) throws IOException {
    ResolvConf conf = ResolvConf.read(file);
    if (conf.servers().isEmpty()) {
      throw new IOException(file + " names no nameserver");
    }
    return defaults(conf.servers(), conf.search(), conf.ndots());
  }

  /**
   * These servers, with the search domains and ndots of a resolv.conf file if it can be read: short
   * service names that resolved through the host's search domains (as in the seed image, which kept
   * resolv.conf) still do when DNS_SERVERS names the servers.
   */
  public DnsSettings withSearchOf(Path resolvConf) {
    try {
      ResolvConf conf = ResolvConf.read(resolvConf);
      return withSearch(conf.search(), conf.ndots());
    } catch (IOException | RuntimeException e) {
      return this;
    }
  }

  /** What a resolv.conf file says: {@code nameserver}, {@code search}/{@code domain}, ndots. */
  private record ResolvConf(List<InetSocketAddress> servers, List<String> search, int ndots) {
    static ResolvConf read(Path file) throws IOException {
      List<InetSocketAddress> servers = new ArrayList<>();
      List<String> search = new ArrayList<>();
      int ndots = 1;
      for (String raw : Files.readAllLines(file)) {
        String[] words = raw.replaceAll("[#;].*", "").trim().split("\\s+");
        switch (words[0]) {
          case "nameserver" -> {
            if (words.length > 1) {
              servers.add(new InetSocketAddress(words[1], 53));
            }
          }
          case "search", "domain" -> {
            search.clear();
            search.addAll(List.of(words).subList(1, words.length));
          }
          case "options" -> {
            for (String option : words) {
              if (option.startsWith("ndots:")) {
                ndots = Math.min(15, Integer.parseInt(option.substring(6)));
              }
            }
          }
          default -> {}
        }
      }
      return new ResolvConf(servers, search, ndots);
    }
  }

  private static DnsSettings defaults(
      List<InetSocketAddress> servers, List<String> search, int ndots) {
    return new DnsSettings(
        servers,
        search,
        ndots,
        Duration.ofSeconds(2),
        Duration.ofSeconds(1),
        Duration.ofMinutes(5),
        DEFAULT_NXDOMAIN_GRACE,
        false);
  }

  public static List<InetSocketAddress> parseServers(String text) {
    List<InetSocketAddress> servers = new ArrayList<>();
    for (String part : text.split("[,\\s]+")) {
      if (part.isEmpty()) {
        continue;
      }
      int colon = part.lastIndexOf(':');
      boolean hasPort = colon > 0 && part.indexOf(':') == colon;
      String host = hasPort ? part.substring(0, colon) : part;
      int port = hasPort ? Integer.parseInt(part.substring(colon + 1)) : 53;
      servers.add(new InetSocketAddress(host, port));
    }
    if (servers.isEmpty()) {
      throw new IllegalArgumentException("no DNS server in '" + text + "'");
    }
    return servers;
  }

  public DnsSettings withTimings(
      Duration newTimeout, Duration floor, Duration ceiling, Duration grace) {
    return new DnsSettings(
        servers,
        search,
        ndots,
        newTimeout,
        floor,
        ceiling,
        grace,
        srv,
        records,
        maxInFlight,
        startTimeout);
  }

  public DnsSettings withSearch(List<String> domains, int newNdots) {
    return new DnsSettings(
        servers,
        domains,
        newNdots,
        timeout,
        ttlFloor,
        ttlCeiling,
        emptyGrace,
        srv,
        records,
        maxInFlight,
        startTimeout);
  }

  public DnsSettings withSrv(boolean useSrv) {
    return new DnsSettings(
        servers,
        search,
        ndots,
        timeout,
        ttlFloor,
        ttlCeiling,
        emptyGrace,
        useSrv,
        records,
        maxInFlight,
        startTimeout);
  }

  /** Which address records to ask for, how many names at once, how long to wait at start. */
  public DnsSettings withLoad(Records newRecords, int newMaxInFlight, Duration newStartTimeout) {
    return new DnsSettings(
        servers,
        search,
        ndots,
        timeout,
        ttlFloor,
        ttlCeiling,
        emptyGrace,
        srv,
        newRecords,
        newMaxInFlight,
        newStartTimeout);
  }
}
