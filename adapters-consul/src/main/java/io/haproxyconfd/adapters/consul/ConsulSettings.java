package io.haproxyconfd.adapters.consul;

import java.net.URI;
import java.time.Duration;
import java.util.Optional;

/**
 * How to reach Consul.
 *
 * @param address the agent, {@code host:port} or {@code http://host:port} ({@code
 *     CONSUL_HTTP_ADDR})
 * @param token the ACL token ({@code CONSUL_HTTP_TOKEN})
 * @param datacenter the datacenter to ask; the agent's own when empty
 * @param blockingWait how long one blocking query waits; under 9 minutes, because consul-api's HTTP
 *     read timeout is 10
 * @param timeout the deadline of every non-blocking call
 */
public record ConsulSettings(
    URI address,
    Optional<String> token,
    Optional<String> datacenter,
    Duration blockingWait,
    Duration timeout) {

  public ConsulSettings {
    if (address.getHost() == null || address.getPort() < 1) {
      throw new IllegalArgumentException("Consul address '" + address + "' is not host:port");
    }
    if (blockingWait.compareTo(Duration.ofMinutes(9)) >= 0 || blockingWait.toSeconds() < 1) {
      throw new IllegalArgumentException("Consul blocking wait must be 1 s to under 9 minutes");
    }
  }

  public static ConsulSettings of(String address) {
    String a = address.strip();
    URI uri = URI.create(a.contains("://") ? a : "http://" + a);
    return new ConsulSettings(
        uri, Optional.empty(), Optional.empty(), Duration.ofMinutes(5), Duration.ofSeconds(5));
  }

  public ConsulSettings withToken(String newToken) {
    return new ConsulSettings(address, Optional.of(newToken), datacenter, blockingWait, timeout);
  }

  public ConsulSettings withDatacenter(String dc) {
    return new ConsulSettings(address, token, Optional.of(dc), blockingWait, timeout);
  }

  public ConsulSettings withTimings(Duration newWait, Duration newTimeout) {
    return new ConsulSettings(address, token, datacenter, newWait, newTimeout);
  }
}
