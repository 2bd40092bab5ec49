package io.haproxyconfd.adapters.dns;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DnsSettingsTest {
  @TempDir Path dir;

  @Test
  void dns_servers_given_by_hand_keep_the_search_domains_of_resolv_conf() throws Exception {
    Path conf = dir.resolve("resolv.conf");
    Files.writeString(
        conf, "nameserver 10.0.0.2\nsearch weave.local svc.example\noptions ndots:2\n");
    DnsSettings s = DnsSettings.ofServers("127.0.0.1:5353").withSearchOf(conf);
    assertEquals(List.of(new InetSocketAddress("127.0.0.1", 5353)), s.servers());
    assertEquals(List.of("weave.local", "svc.example"), s.search());
    assertEquals(2, s.ndots());
  }

  @Test
  void a_missing_resolv_conf_leaves_the_given_servers_as_they_are() {
    DnsSettings s = DnsSettings.ofServers("127.0.0.1:5353").withSearchOf(dir.resolve("none"));
    assertEquals(List.of(), s.search());
    assertEquals(List.of(new InetSocketAddress("127.0.0.1", 5353)), s.servers());
  }
}
