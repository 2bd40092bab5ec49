package io.haproxyconfd.adapters.haproxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.haproxyconfd.domain.Backend;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * HAProxy 2.6's answers, recorded from its admin socket after {@code set severity-output number}:
 * {@code set server addr} (accepted, and refused with an invalid address), {@code set server state}
 * on a missing server, {@code del server} on a live one, then {@code show servers state}.
 */
class RuntimeAnswersTest {
  static final String ANSWER =
      "\n[4]: IP changed from '127.0.0.1' to '127.0.0.2', port changed from '9' to '80' by 'stats"
          + " socket command'\n\n\n[3]: No such server.\n\n[4]: Invalid addr '999.1.1.1' by 'stats"
          + " socket command'\n\n[3]: Only servers in maintenance mode can be deleted.\n";
  static final String STATE =
      "1\n# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight"
          + " srv_iweight srv_time_since_last_change srv_check_status srv_check_result"
          + " srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id"
          + " srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr"
          + " srv_agent_addr srv_agent_port\n"
          + "2 b 1 s1 127.0.0.2 2 4 1 1 0 1 0 0 8 0 0 0 - 80 - 0 0 - - 0\n"
          + "2 b 2 s2 ::1 0 5 1 1 2 1 0 0 8 0 0 0 - 80 - 0 0 - - 0\n\n";

  private static Optional<String> refusal(String answer) {
    return RuntimeApi.Answer.parse(answer).refusal().map(RuntimeApi.Answer.Line::toString);
  }

  @Test
  void a_refusal_is_told_by_its_severity_code() {
    assertEquals(Optional.of("[3]: No such server."), refusal(ANSWER));
    assertEquals(
        Optional.empty(),
        refusal(
            "\n[4]: IP changed from '127.0.0.1' to '127.0.0.2' by 'stats socket command'\n\n\n"),
        "a warning is no refusal");
    assertEquals(Optional.of("[0]: emergency"), refusal("\n[6]: fine\n[0]: emergency\n"));
    assertEquals(
        Optional.empty(), refusal("No such server.\n"), "words alone are not read: the code is");
  }

  @Test
  void every_line_of_an_answer_keeps_its_severity() {
    RuntimeApi.Answer answer = RuntimeApi.Answer.parse(ANSWER);
    assertEquals(
        List.of(4, 3, 4, 3),
        answer.lines().stream().map(RuntimeApi.Answer.Line::severity).toList());
    assertEquals("No such server.", answer.lines().get(1).text());
    assertEquals(-1, RuntimeApi.Answer.parse("plain words\n").lines().get(0).severity());
  }

  @Test
  void the_state_read_back_tells_a_slot_that_holds_the_change_from_one_that_does_not() {
    List<ServerStates.Server> servers = ServerStates.parse(STATE);
    assertEquals(2, servers.size());
    ServerStates.Server s1 = servers.get(0);
    ServerStates.Server s2 = servers.get(1);
    assertTrue(s1.holds(Optional.of(Backend.of("127.0.0.2", 80))), "made ready: holds it");
    assertFalse(s1.holds(Optional.of(Backend.of("127.0.0.3", 80))), "another address");
    assertFalse(s1.holds(Optional.of(Backend.of("127.0.0.2", 81))), "another port");
    assertFalse(s1.holds(Optional.empty()), "a filled slot is not empty");
    assertTrue(s2.holds(Optional.empty()), "in forced maintenance: empty");
    assertFalse(s2.holds(Optional.of(Backend.of("::1", 80))), "the address, but in maintenance");
    assertTrue(
        new ServerStates.Server("b", "s2", "::1", 80, 2, 4, 0)
            .holds(Optional.of(Backend.of("0:0:0:0:0:0:0:1", 80))),
        "IPv6 compared as an address");
  }
}
