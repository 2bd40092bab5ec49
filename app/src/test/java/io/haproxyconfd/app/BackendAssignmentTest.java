package io.haproxyconfd.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.haproxyconfd.domain.Backend;
import io.haproxyconfd.domain.ConfigParser;
import io.haproxyconfd.domain.KeySnapshot;
import io.haproxyconfd.domain.Keys;
import io.haproxyconfd.domain.LastGood;
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
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class BackendAssignmentTest {
  /** A discovering resolver that knows one name and records what it was asked. */
  static final class FakeDns implements BackendResolver {
    Set<BackendQuery> asked = Set.of();

    /** The interest given with the last call that asked about some services only. */
    Set<BackendQuery> interest;

    @Override
    public Map<BackendQuery, Resolution> resolve(
        Set<BackendQuery> interest, Set<BackendQuery> asked) {
      this.interest = Set.copyOf(interest);
      Map<BackendQuery, Resolution> all = resolve(asked);
      this.asked = this.interest;
      return all;
    }

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

  /**
   * Assigning only what changed gives what assigning everything gives, after each of 300 random
   * changes (services with agent keys, with DNS names, a refused one coming and going), while DNS
   * is always told the whole interest and asked only about what changed.
   */
  @Test
  void an_assignment_of_what_changed_equals_one_of_everything_after_every_change()
      throws Exception {
    Random random = new Random(18);
    TreeMap<String, KeySnapshot.Entry> keys = new TreeMap<>();
    ConfigParser.Memo parsing = new ConfigParser.Memo();
    BackendAssignment.Memo memo = new BackendAssignment.Memo();
    FakeDns dns = new FakeDns();
    BackendResolver resolver = new AgentKeysFirst(dns, AgentNames.none());
    int asked = 0;
    int passes = 0;
    for (int revision = 1; revision <= 300; revision++) {
      String folder = (random.nextInt(4) == 0 ? "tcp-services/" : "services/") + name(random);
      String key = folder + "/" + List.of("w1", "w2", "port", "name").get(random.nextInt(4));
      if (random.nextInt(5) == 0) {
        keys.remove(key);
      } else {
        keys.put(key, new KeySnapshot.Entry(value(random, key), revision));
      }
      keys.put(
          folder + (folder.startsWith("tcp") ? "/external_port" : "/domain"),
          new KeySnapshot.Entry(
              folder.startsWith("tcp")
                  ? Integer.toString(1000 + Math.abs(folder.hashCode() % 5000))
                  : folder.substring(9) + ".example.org",
              1));
      ProxyConfig config =
          ConfigParser.parse(new KeySnapshot(revision, keys), Keys.DNS, LastGood.NONE, parsing)
              .config();
      dns.interest = null;
      BackendAssignment.Result everything;
      try {
        everything = BackendAssignment.assign(config, resolver);
      } catch (StoreException refused) {
        assertThrows(StoreException.class, () -> memo.assign(config, resolver, false));
        continue;
      }
      Set<BackendQuery> fullInterest = dns.asked;
      BackendAssignment.Result changed = memo.assign(config, resolver, false);
      assertEquals(everything.config(), changed.config(), "after change " + revision);
      assertEquals(everything.warnings(), changed.warnings(), "after change " + revision);
      if (dns.interest != null) {
        assertEquals(fullInterest, dns.interest, "DNS is told the whole interest");
      }
      asked += memo.lastAsked();
      passes++;
    }
    assertTrue(passes > 200, "passes that were not refused: " + passes);
    assertTrue(asked < 3 * passes, "services asked about in " + passes + " passes: " + asked);
  }

  private static String name(Random random) {
    return List.of("myapp", "web", "db", "api", "hidden", "cache").get(random.nextInt(6));
  }

  private static String value(Random random, String key) {
    if (key.endsWith("/port")) {
      return List.of("80", "8080").get(random.nextInt(2));
    }
    return List.of("10.0.0.1:80", "10.0.0.2:80", "10.0.0.3:8080").get(random.nextInt(3));
  }

  /**
   * An answer that carried a warning is asked for again at the next pass, though nothing changed
   * and the resolver said nothing: a name that did not resolve yet may resolve now. Every service
   * is asked again when asked for everything.
   */
  @Test
  void a_warned_service_is_asked_again_and_everything_means_everything() throws Exception {
    ProxyConfig config =
        Keys.of(
                "services/myapp/domain", "example.org",
                "services/myapp/port", "80",
                "services/late/domain", "late.example.org",
                "services/late/port", "80")
            .parse()
            .config();
    java.util.concurrent.atomic.AtomicBoolean resolvable =
        new java.util.concurrent.atomic.AtomicBoolean();
    java.util.List<Set<String>> asked = new java.util.ArrayList<>();
    BackendResolver dns =
        new BackendResolver() {
          @Override
          public Map<BackendQuery, Resolution> resolve(Set<BackendQuery> queries) {
            asked.add(
                new java.util.TreeSet<>(queries.stream().map(q -> q.service().value()).toList()));
            Map<BackendQuery, Resolution> answers = new HashMap<>();
            for (BackendQuery q : queries) {
              answers.put(
                  q,
                  q.service().value().equals("late") && !resolvable.get()
                      ? new Resolution(List.of(), Optional.of("NXDOMAIN"))
                      : Resolution.of(List.of(Backend.of("10.0.0.7", 80))));
            }
            return answers;
          }

          @Override
          public Map<BackendQuery, Resolution> resolve(
              Set<BackendQuery> interest, Set<BackendQuery> queries) {
            return resolve(queries);
          }

          @Override
          public Subscription onChange(ChangeListener listener) {
            return () -> {};
          }

          @Override
          public void close() {}
        };
    BackendAssignment.Memo memo = new BackendAssignment.Memo();
    BackendAssignment.Result first = memo.assign(config, dns, false);
    assertEquals(List.of("services/late: NXDOMAIN"), first.warnings());
    resolvable.set(true);
    BackendAssignment.Result second = memo.assign(config, dns, false);
    assertEquals(Set.of("late"), asked.get(1), "only the warned service is asked again");
    assertEquals(List.of(), second.warnings());
    assertEquals(
        List.of(Backend.of("10.0.0.7", 80)),
        second.config().httpService(ServiceName.of("late")).orElseThrow().backends());
    memo.assign(config, dns, false);
    assertEquals(2, asked.size(), "nothing warned, nothing changed: nothing asked");
    memo.assign(config, dns, true);
    assertEquals(Set.of("late", "myapp"), asked.get(2), "everything");
  }
}
