package io.haproxyconfd.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.haproxyconfd.domain.Backend;
import io.haproxyconfd.domain.Keys;
import io.haproxyconfd.domain.ParseOptions;
import io.haproxyconfd.domain.ProxyConfig;
import io.haproxyconfd.domain.ServiceName;
import io.haproxyconfd.ports.BackendQuery;
import io.haproxyconfd.ports.BackendResolver;
import io.haproxyconfd.ports.ChangeListener;
import io.haproxyconfd.ports.Resolution;
import io.haproxyconfd.ports.StoreException;
import io.haproxyconfd.ports.Subscription;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

class BackendAssignmentTest {
  /** A discovering resolver that knows one name and records what it was asked. */
  static final class FakeDns implements BackendResolver {
    Set<BackendQuery> asked = Set.of();

    @Override
    public Map<BackendQuery, Resolution> resolve(Set<BackendQuery> queries) {
      asked = queries;
      Map<BackendQuery, Resolution> answers = new HashMap<>();
      for (BackendQuery q : queries) {
        answers.put(
            q,
            q.service().value().equals("myapp")
                ? Resolution.of(List.of(Backend.of("10.0.0.7", q.port().orElseThrow().value())))
                : q.service().value().equals("hidden")
                    ? Resolution.refused("Consul's ACLs hid it: check CONSUL_HTTP_TOKEN")
                    : new Resolution(List.of(), Optional.of("NXDOMAIN")));
      }
      return answers;
    }

    @Override
    public Subscription onChange(ChangeListener listener) {
      return () -> {};
    }

    @Override
    public void close() {}
  }

  private static final ProxyConfig CONFIG =
      Keys.of(
              "services/myapp/domain", "example.org",
              "services/myapp/port", "80",
              "services/ghost/domain", "blog.example.org",
              "services/ghost/ghost-1", "10.81.16.197:80",
              "services/ghost/ghost-2", "10.81.10.33:80",
              "tcp-services/galera/external_port", "3306",
              "tcp-services/galera/internal_port", "3306")
          .parse()
          .config();

  @Test
  void agent_keys_win_and_everything_else_is_asked_of_discovery() throws Exception {
    FakeDns dns = new FakeDns();
    BackendAssignment.Result r =
        BackendAssignment.assign(CONFIG, new AgentKeysFirst(dns, AgentNames.none()));
    assertEquals(
        List.of(Backend.of("10.0.0.7", 80)),
        r.config().httpService(ServiceName.of("myapp")).orElseThrow().backends());
    assertEquals(
        List.of(Backend.of("10.81.10.33", 80), Backend.of("10.81.16.197", 80)),
        r.config().httpService(ServiceName.of("ghost")).orElseThrow().backends());
    assertEquals(
        Set.of("myapp", "galera"),
        Set.copyOf(dns.asked.stream().map(q -> q.service().value()).toList()),
        "ghost's agent keys are not looked up in DNS");
    assertEquals(List.of("tcp-services/galera: NXDOMAIN"), r.warnings());
  }

  @Test
  void the_seed_and_kontena_layouts_give_the_same_backends_in_keys_mode() throws Exception {
    ParseOptions keysMode = Keys.DNS.withDiscovery(ParseOptions.Discovery.KEYS);
    ProxyConfig seed =
        Keys.of(
                "services/ghost/domain", "blog.example.org",
                "services/ghost/ghost-1", "10.81.16.197:80",
                "services/ghost/ghost-2", "10.81.10.33:80")
            .parse(keysMode)
            .config();
    ProxyConfig kontena =
        Keys.of(
                "services/ghost/virtual_hosts", "blog.example.org",
                "services/ghost/upstreams/ghost-1", "10.81.16.197:80",
                "services/ghost/upstreams/ghost-2", "10.81.10.33:80")
            .parse(keysMode)
            .config();
    AgentKeysResolver keys = new AgentKeysResolver(AgentNames.none());
    assertEquals(
        BackendAssignment.assign(seed, keys).config(),
        BackendAssignment.assign(kontena, keys).config());
    assertEquals(2, BackendAssignment.assign(seed, keys).config().http().get(0).backends().size());
  }

  @Test
  void keys_mode_warns_about_a_service_without_agent_keys() throws Exception {
    ProxyConfig config =
        Keys.of("services/web/domain", "example.org")
            .parse(Keys.DNS.withDiscovery(ParseOptions.Discovery.KEYS))
            .config();
    BackendAssignment.Result r =
        BackendAssignment.assign(config, new AgentKeysResolver(AgentNames.none()));
    assertEquals(List.of(), r.config().http().get(0).backends());
    assertEquals(1, r.warnings().size());
  }

  @Test
  void a_refused_answer_is_an_error_naming_the_service_never_empty_backends() {
    ProxyConfig config =
        Keys.of(
                "services/myapp/domain", "example.org",
                "services/myapp/port", "80",
                "services/hidden/domain", "hidden.example.org",
                "services/hidden/port", "80")
            .parse()
            .config();
    StoreException e =
        assertThrows(
            StoreException.class,
            () ->
                BackendAssignment.assign(
                    config, new AgentKeysFirst(new FakeDns(), AgentNames.none())));
    assertTrue(e.isPermanent());
    assertEquals("services/hidden: Consul's ACLs hid it: check CONSUL_HTTP_TOKEN", e.getMessage());
  }
}
