package io.haproxyconfd.adapters.dns;

import io.haproxyconfd.domain.ServiceName;
import io.haproxyconfd.ports.BackendResolver;
import io.haproxyconfd.ports.BackendResolverContract;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.extension.RegisterExtension;

/** DNS discovery keeps the promises of {@link BackendResolver}, against dnsmasq (TTL 1 s). */
class DnsContractIT extends BackendResolverContract {
  @RegisterExtension static Dnsmasq dns = Dnsmasq.withTtl(1);

  private static final Map<ServiceName, List<String>> RECORDS = new ConcurrentHashMap<>();

  @Override
  protected BackendResolver newResolver() {
    return new DnsBackendResolver(
        new DnsSettings(
            List.of(dns.address()),
            List.of(),
            1,
            Duration.ofSeconds(1),
            Duration.ofMillis(300),
            Duration.ofSeconds(60),
            Duration.ofSeconds(2),
            false),
        Clock.systemUTC());
  }

  /** The name's A records, in dnsmasq's hosts file beside every other name's. */
  @Override
  protected void publish(ServiceName name, List<String> addresses) throws Exception {
    RECORDS.put(name, addresses);
    List<String> lines = new ArrayList<>();
    RECORDS.forEach((n, list) -> list.forEach(a -> lines.add(a + " " + n.value())));
    dns.hosts(lines.toArray(String[]::new));
  }
}
