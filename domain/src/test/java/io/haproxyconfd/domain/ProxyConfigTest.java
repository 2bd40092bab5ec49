package io.haproxyconfd.domain;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
}
