package io.haproxyconfd.domain;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.haproxyconfd.domain.ConfigChange.Kind;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ConfigChangeTest {
  private static final ProxyConfig BASE =
      Keys.of(
              "services/web/domain", "example.org",
              "services/web/port", "80",
              "services/web/w-1", "10.0.0.1:80",
              "tcp-services/db/external_port", "5432",
              "tcp-services/db/d-1", "10.0.0.9:5432")
          .parse()
          .config();

  @Test
  void the_same_config_at_another_revision_is_no_change() {
    ProxyConfig later = new ProxyConfig(99, BASE.http(), BASE.tcp());
    assertEquals(new ConfigChange(Kind.NONE, Set.of()), ConfigChange.between(BASE, later));
  }

  @Test
  void new_changed_or_removed_addresses_are_backends_only() {
    HttpService web = BASE.http().get(0);
    TcpService db = BASE.tcp().get(0);
    ProxyConfig scaled =
        new ProxyConfig(
            2,
            List.of(
                web.withBackends(List.of(Backend.of("10.0.0.1", 80), Backend.of("10.0.0.2", 80)))),
            List.of(db.withBackends(List.of())));
    assertEquals(
        new ConfigChange(Kind.BACKENDS_ONLY, Set.of(ServiceName.of("web"), ServiceName.of("db"))),
        ConfigChange.between(BASE, scaled));
  }

  @Test
  void a_new_service_route_or_option_is_structural() {
    ProxyConfig more =
        Keys.of(
                "services/web/domain", "example.org,www.example.org",
                "services/web/port", "80",
                "services/web/w-1", "10.0.0.1:80",
                "tcp-services/db/external_port", "5432",
                "tcp-services/db/d-1", "10.0.0.9:5432")
            .parse()
            .config();
    assertEquals(Kind.STRUCTURAL, ConfigChange.between(BASE, more).kind());
    assertEquals(Kind.STRUCTURAL, ConfigChange.between(BASE, ProxyConfig.EMPTY).kind());
    assertEquals(Kind.STRUCTURAL, ConfigChange.between(ProxyConfig.EMPTY, BASE).kind());
  }

  @Test
  void an_inconsistent_config_cannot_be_built() {
    TcpService db = BASE.tcp().get(0);
    TcpService clash =
        new TcpService(
            ServiceName.of("db2"),
            db.externalPort(),
            db.internalPort(),
            db.balance(),
            List.of(),
            List.of());
    var e =
        assertThrows(
            IllegalArgumentException.class,
            () -> new ProxyConfig(1, BASE.http(), List.of(db, clash)));
    assertEquals("TCP external port 5432 appears twice", e.getMessage());
  }
}
