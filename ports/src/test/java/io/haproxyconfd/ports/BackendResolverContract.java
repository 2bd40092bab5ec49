package io.haproxyconfd.ports;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.haproxyconfd.domain.Await;
import io.haproxyconfd.domain.Backend;
import io.haproxyconfd.domain.Port;
import io.haproxyconfd.domain.ServiceName;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What every {@link BackendResolver} promises, run against each of them (DNS, Consul's catalog,
 * agent keys, the composites that put agent keys first, and the in-memory catalog the unit tests
 * use), so that a fake cannot drift from the real thing. A subclass gives a resolver and a way to
 * make its source hold addresses for a name, as DNS records, catalog instances or agent keys.
 */
public abstract class BackendResolverContract {
  /** The port every address is published with, and every query carries. */
  protected static final int PORT = 8080;

  protected static final Duration DEADLINE = Duration.ofSeconds(10);
  private static final AtomicLong NAMES = new AtomicLong(System.nanoTime() % 1_000_000);

  /** A new resolver on the source under test. The contract closes it. */
  protected abstract BackendResolver newResolver() throws Exception;

  /** The source now holds {@code addresses} (IPv4, no port) for {@code name}, and no others. */
  protected abstract void publish(ServiceName name, List<String> addresses) throws Exception;

  /** The query the daemon sends for {@code name}: with {@link #PORT}, and no agent keys. */
  protected BackendQuery query(ServiceName name) {
    return new BackendQuery(name, Optional.of(Port.of(PORT)), List.of());
  }

  /** Whether the resolver signals changes itself; one fed by watched keys does not. */
  protected boolean signalsChanges() {
    return true;
  }

  protected BackendResolver resolver;

  /** A service name no other test uses. */
  protected static ServiceName freshName() {
    return ServiceName.of("svc" + NAMES.incrementAndGet());
  }

  @BeforeEach
  void openResolver() throws Exception {
    resolver = newResolver();
  }

  @AfterEach
  void closeResolver() {
    resolver.close();
  }

  private static List<Backend> at(String... addresses) {
    return java.util.Arrays.stream(addresses).map(a -> Backend.of(a, PORT)).sorted().toList();
  }

  private Resolution resolveOne(ServiceName name) {
    BackendQuery q = query(name);
    Map<BackendQuery, Resolution> answers = resolver.resolve(Set.of(q));
    assertEquals(Set.of(q), answers.keySet(), "one resolution for the one query");
    return answers.get(q);
  }

  @Test
  void resolves_the_addresses_its_source_holds_with_the_port() throws Exception {
    ServiceName name = freshName();
    publish(name, List.of("127.0.0.11", "127.0.0.12"));
    Resolution r = resolveOne(name);
    assertEquals(at("127.0.0.11", "127.0.0.12"), r.backends(), r.toString());
    assertEquals(Optional.empty(), r.warning());
    assertFalse(r.refused());
  }

  @Test
  void a_name_the_source_does_not_know_resolves_empty_with_a_warning() {
    Resolution r = resolveOne(freshName());
    assertEquals(List.of(), r.backends());
    assertTrue(r.warning().isPresent(), "a warning says why there is no backend");
    assertFalse(r.refused(), "not knowing a name is no refusal");
  }

  @Test
  void every_query_gets_its_own_resolution() throws Exception {
    ServiceName a = freshName();
    ServiceName b = freshName();
    ServiceName unknown = freshName();
    publish(a, List.of("127.0.0.21"));
    publish(b, List.of("127.0.0.22"));
    Map<BackendQuery, Resolution> answers =
        resolver.resolve(Set.of(query(a), query(b), query(unknown)));
    assertEquals(Set.of(query(a), query(b), query(unknown)), answers.keySet());
    assertEquals(at("127.0.0.21"), answers.get(query(a)).backends());
    assertEquals(at("127.0.0.22"), answers.get(query(b)).backends());
    assertEquals(List.of(), answers.get(query(unknown)).backends());
  }

  @Test
  void a_changed_source_is_signalled_and_resolved_anew() throws Exception {
    ServiceName name = freshName();
    publish(name, List.of("127.0.0.31"));
    assertEquals(at("127.0.0.31"), resolveOne(name).backends());
    LinkedBlockingQueue<String> signals = new LinkedBlockingQueue<>();
    try (Subscription s = resolver.onChange(signals::add)) {
      publish(name, List.of("127.0.0.32"));
      if (signalsChanges()) {
        assertTrue(
            signals.poll(DEADLINE.toSeconds(), TimeUnit.SECONDS) != null,
            "no signal for a changed service");
      }
      Await.until(
          DEADLINE, "the new address", () -> resolveOne(name).backends().equals(at("127.0.0.32")));
    }
  }

  @Test
  void resolving_nothing_gives_nothing() {
    assertEquals(Map.of(), resolver.resolve(Set.of()));
  }

  @Test
  void closing_twice_is_harmless() {
    resolver.close();
    resolver.close();
  }
}
