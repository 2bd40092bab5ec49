package io.haproxyconfd.domain;

import java.time.Instant;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * What the parser needs to know beyond the keys.
 *
 * @param reservedPorts ports HAProxy uses itself (HTTP, HTTPS, stats), with what each is for; a TCP
 *     service may not take them
 * @param discovery how backends are found, which decides whether {@code port} is required
 * @param customSettingsAllowed whether {@code custom_settings} lines are honoured
 * @param now the time certificates are checked against
 * @param agentHostNames whether agent keys may name {@code host:port} (resolved once by DNS)
 */
public record ParseOptions(
    Map<Port, String> reservedPorts,
    Discovery discovery,
    boolean customSettingsAllowed,
    Instant now,
    boolean agentHostNames) {

  /** Where the addresses of a service's servers come from. */
  public enum Discovery {
    /** A and AAAA records of the service name, with the service's {@code port}. */
    DNS,
    /** SRV records of the service name, which give ports too. */
    DNS_SRV,
    /** Only keys written by an orchestrator agent. */
    KEYS,
    /** Consul's catalog, which knows ports too. */
    CATALOG
  }

  public ParseOptions {
    reservedPorts = Map.copyOf(reservedPorts);
    Objects.requireNonNull(discovery, "discovery");
    Objects.requireNonNull(now, "now");
  }

  /** The seed image's ports: HTTP 80, HTTPS 443, stats 1000; DNS discovery; no custom lines. */
  public static ParseOptions defaults(Instant now) {
    return new ParseOptions(ports(80, 443, 1000), Discovery.DNS, false, now, false);
  }

  public static Map<Port, String> ports(int http, int https, int stats) {
    Map<Port, String> ports = new TreeMap<>();
    ports.put(Port.of(http), "the HTTP port");
    ports.put(Port.of(https), "the HTTPS port");
    ports.put(Port.of(stats), "the stats port");
    return ports;
  }

  /** Whether these options parse keys as {@code other} does: the same in all but the time. */
  public boolean parsesAs(ParseOptions other) {
    return reservedPorts.equals(other.reservedPorts)
        && discovery == other.discovery
        && customSettingsAllowed == other.customSettingsAllowed
        && agentHostNames == other.agentHostNames;
  }

  /** With these ports reserved, in place of the seed image's. */
  public ParseOptions withReservedPorts(Map<Port, String> ports) {
    return new ParseOptions(ports, discovery, customSettingsAllowed, now, agentHostNames);
  }

  /** With one more port reserved (the daemon's own admin port). */
  public ParseOptions withReservedPort(int port, String what) {
    if (port <= 0) {
      return this; // an ephemeral port: nothing to clash with
    }
    Map<Port, String> ports = new TreeMap<>(reservedPorts);
    ports.putIfAbsent(Port.of(port), what);
    return withReservedPorts(ports);
  }

  public ParseOptions withDiscovery(Discovery d) {
    return new ParseOptions(reservedPorts, d, customSettingsAllowed, now, agentHostNames);
  }

  public ParseOptions withAgentHostNames(boolean allowed) {
    return new ParseOptions(reservedPorts, discovery, customSettingsAllowed, now, allowed);
  }

  public ParseOptions withCustomSettingsAllowed(boolean allowed) {
    return new ParseOptions(reservedPorts, discovery, allowed, now, agentHostNames);
  }
}
