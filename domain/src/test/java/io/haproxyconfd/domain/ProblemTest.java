package io.haproxyconfd.domain;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import org.junit.jupiter.api.Test;

class ProblemTest {
  @Test
  void a_value_holding_a_private_key_is_never_shown() {
    String pem = "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIBkg4LVWM9nuwNSk3yByxZpYRTBnVJk5oDr0p\n";
    Problem p =
        Problem.ignored("services/web/cert", pem, "certificate bundle holds no CERTIFICATE");
    assertFalse(p.value().contains("MHcC"), p.value());
    assertEquals("(" + pem.length() + " characters holding a private key: not shown)", p.value());
  }

  @Test
  void another_value_is_shown_shortened_with_control_characters_escaped() {
    Problem p = Problem.ignored("services/web/port", "80\nx", "not a port");
    assertEquals("80\\nx", p.value());
  }
}
