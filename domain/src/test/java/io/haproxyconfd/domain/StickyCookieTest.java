package io.haproxyconfd.domain;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class StickyCookieTest {
  @Test
  void an_empty_value_or_a_bare_name_inserts_a_server_cookie() {
    assertEquals("SERVERID insert indirect nocache", StickyCookie.parse("").directive());
    assertEquals(
        "JSESSIONID insert indirect nocache", StickyCookie.parse(" JSESSIONID ").directive());
  }

  @Test
  void kontenas_whole_haproxy_line_keeps_its_name_mode_and_flags() {
    assertEquals(
        "LB_COOKIE_TEST insert indirect nocache",
        StickyCookie.parse("cookie LB_COOKIE_TEST insert indirect nocache").directive());
    assertEquals(
        new StickyCookie("JSESSIONID", List.of("prefix", "nocache")),
        StickyCookie.parse("cookie JSESSIONID prefix nocache"));
    assertEquals(
        "S insert nocache secure", StickyCookie.parse("cookie S nocache secure").directive());
  }

  @Test
  void nothing_but_known_words_reaches_haproxy() {
    for (String bad :
        List.of(
            "cookie",
            "cookie S insert domain evil.example",
            "cookie S insert prefix",
            "cookie S insert\nbackend x",
            "cookie S#x insert",
            "two words")) {
      IllegalArgumentException e =
          assertThrows(IllegalArgumentException.class, () -> StickyCookie.parse(bad), bad);
      assertTrue(!e.getMessage().isBlank(), bad);
    }
  }
}
