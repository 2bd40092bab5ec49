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
  @ValueSource(
      strings = {
        "1:2:3:4:5:6:7:8:9",
        "1::2::3",
        "12345::",
        "g::1",
        "1:2:3:4:5:6:7",
        ":1",
        "::ffff:1.2.3.256",
        "::ffff:01.2.3.4",
        "::ffff:1.2.3",
        "::ffff:1.2.3.4.5"
      })
  void malformed_ipv6_is_refused(String text) {
    assertThrows(IllegalArgumentException.class, () -> new Backend(text, Port.of(80)));
  }

  @ParameterizedTest
  @ValueSource(strings = {"0.0.0.0", "10.81.16.197", "255.255.255.255", "1.20.199.249"})
  void ipv4_addresses_are_taken_as_written(String text) {
    assertEquals(text, Backend.parse(text + ":80").address());
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "256.1.1.1",
        "1.2.3.300",
        "01.2.3.4",
        "1.2.3.00",
        "1.2.3",
        "1.2.3.4.5",
        "1..2.3",
        "",
        "1.2.3.4.",
        ".1.2.3.4",
        "-1.2.3.4",
        " 1.2.3.4",
        "1.2.3.a",
        "1.2.3.4 ",
        "1000.2.3.4",
        "\u0661.2.3.4",
        "1.2.3.\u0664"
      })
  void malformed_ipv4_is_refused(String text) {
    assertThrows(IllegalArgumentException.class, () -> new Backend(text, Port.of(80)));
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "0",
        "01",
        "65536",
        "99999",
        "123456",
        "+80",
        "8 0",
        "",
        " 80",
        "80a",
        "\u0668\u0660"
      })
  void malformed_ports_are_refused(String text) {
    assertThrows(IllegalArgumentException.class, () -> Port.parse(text));
  }

  @org.junit.jupiter.api.Test
  void no_port_is_refused() {
    assertThrows(IllegalArgumentException.class, () -> Port.parse(null));
  }

  @ParameterizedTest
  @ValueSource(strings = {"1", "80", "65535", "10080"})
  void ports_are_read_as_written(String text) {
    assertEquals(Integer.parseInt(text), Port.parse(text).value());
  }
}
