package io.haproxyconfd.domain;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ProxyConfigTest {
  @Test
  void every_service_is_found_by_its_name_and_no_other() {
    List<HttpService> http = new ArrayList<>();
    for (int i = 0; i < 57; i++) {
      http.add(
          HttpService.of(
              ServiceName.of("s" + i),
              List.of(HostPattern.of("s" + i + ".example.org")),
              List.of()));
    }
    List<TcpService> tcp = new ArrayList<>();
    for (int i = 0; i < 13; i++) {
      tcp.add(
          new TcpService(
              ServiceName.of("t" + (13 - i)),
              Port.of(5000 + i),
              Optional.empty(),
              Balance.LEASTCONN,
              List.of(),
              List.of()));
    }
    ProxyConfig config = new ProxyConfig(1, http, tcp);
    for (HttpService s : http) {
      assertEquals(Optional.of(s), config.httpService(s.name()));
    }
    for (TcpService s : tcp) {
      assertEquals(Optional.of(s), config.tcpService(s.name()));
      assertTrue(config.httpService(s.name()).isEmpty());
    }
    for (String missing : List.of("a", "s", "s1x", "s99", "zz")) {
      assertTrue(config.httpService(ServiceName.of(missing)).isEmpty(), missing);
      assertTrue(config.tcpService(ServiceName.of(missing)).isEmpty(), missing);
    }
  }

  /** Backends for a config's services, in its order: anything else would undo its checks. */
  @Test
  void other_backends_are_taken_only_for_the_same_services_in_the_same_places() {
    HttpService a =
        HttpService.of(ServiceName.of("a"), List.of(HostPattern.of("a.example.org")), List.of());
    HttpService b =
        HttpService.of(ServiceName.of("b"), List.of(HostPattern.of("b.example.org")), List.of());
    HttpService c =
        HttpService.of(ServiceName.of("c"), List.of(HostPattern.of("c.example.org")), List.of());
    ProxyConfig config = new ProxyConfig(1, List.of(a, b), List.of());
    HttpService moved = b.withBackends(List.of(Backend.of("10.0.0.1", 80)));
    assertEquals(List.of(a, moved), config.withBackends(List.of(a, moved), List.of()).http());
    assertThrows(
        IllegalArgumentException.class, () -> config.withBackends(List.of(a, c), List.of()));
    assertThrows(IllegalArgumentException.class, () -> config.withBackends(List.of(a), List.of()));
    HttpService rerouted =
        HttpService.of(ServiceName.of("b"), List.of(HostPattern.of("x.example.org")), List.of());
    assertThrows(
        IllegalArgumentException.class, () -> config.withBackends(List.of(a, rerouted), List.of()));
  }
}
