package io.haproxyconfd.domain;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class ProxyIdTest {
  @Test
  void the_seed_layout_is_haproxy_dash_id() {
    assertEquals("haproxy-web1", new ProxyId("web1").folder());
  }

  @Test
  void a_prefix_of_the_operators_names_the_folder_and_by_default_the_proxy() {
    ProxyId lb = ProxyId.atPrefix("/kontena/haproxy/lb1/", null);
    assertEquals("kontena/haproxy/lb1", lb.folder());
    assertEquals("lb1", lb.value());
    assertEquals("edge", ProxyId.atPrefix("kontena/haproxy/lb1", "edge").value());
  }

  @Test
  void a_prefix_that_could_leave_its_place_is_refused() {
    for (String bad : new String[] {"/", "../x", "a/../b", "a b", "a//b", "a/.hidden", "a\nb"}) {
      assertThrows(
          IllegalArgumentException.class, () -> ProxyId.atPrefix(bad, "x"), "'" + bad + "'");
    }
  }
}
