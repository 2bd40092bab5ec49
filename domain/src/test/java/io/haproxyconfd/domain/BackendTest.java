package io.haproxyconfd.domain;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class BackendTest {
  @ParameterizedTest
  @CsvSource({
    "2001:db8:0:0:0:0:0:5, 2001:db8::5",
    "2001:DB8::5, 2001:db8::5",
    "0:0:0:0:0:0:0:1, ::1",
    "::, ::",
    "2001:0db8:0:0:1:0:0:1, 2001:db8::1:0:0:1",
    "2001:db8:0:1:1:1:1:1, 2001:db8:0:1:1:1:1:1",
    "::ffff:192.0.2.1, ::ffff:c000:201",
    "fe80:0:0:0:0:0:0:0, fe80::"
  })
  void ipv6_addresses_have_one_canonical_form(String written, String canonical) {
    assertEquals(canonical, new Backend(written, Port.of(80)).address());
    assertEquals(new Backend(canonical, Port.of(80)), Backend.parse("[" + written + "]:80"));
  }

  @ParameterizedTest
  @ValueSource(strings = {"1:2:3:4:5:6:7:8:9", "1::2::3", "12345::", "g::1", "1:2:3:4:5:6:7", ":1"})
  void malformed_ipv6_is_refused(String text) {
    assertThrows(IllegalArgumentException.class, () -> new Backend(text, Port.of(80)));
  }
}
