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
 * @param emptyGrace how long a name that stopped resolving keeps its last addresses
 * @param srv look up {@code _http._tcp.<name>} SRV records (ports from DNS) instead of A/AAAA
 */
public record DnsSettings(
    List<InetSocketAddress> servers,
    List<String> search,
    int ndots,
    Duration timeout,
    Duration ttlFloor,
    Duration ttlCeiling,
    Duration emptyGrace,
    boolean srv) {

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
        Duration.ofSeconds(30),
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
    return new DnsSettings(servers, search, ndots, newTimeout, floor, ceiling, grace, srv);
  }

  public DnsSettings withSearch(List<String> domains, int newNdots) {
    return new DnsSettings(
        servers, domains, newNdots, timeout, ttlFloor, ttlCeiling, emptyGrace, srv);
  }

  public DnsSettings withSrv(boolean useSrv) {
    return new DnsSettings(
        servers, search, ndots, timeout, ttlFloor, ttlCeiling, emptyGrace, useSrv);
  }
}
