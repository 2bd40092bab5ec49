package io.haproxyconfd.adapters.dns;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class FailureReportTest {
  private final List<String> warnings = new ArrayList<>();
  private final List<String> infos = new ArrayList<>();
  private int queued;
  private final FailureReport report = new FailureReport(warnings::add, infos::add, () -> queued);
  private final Instant t0 = Instant.parse("2026-12-07T03:00:00Z");

  @Test
  void an_outage_of_many_names_is_a_line_then_a_summary_per_interval_then_an_all_clear() {
    for (int retry = 0; retry < 5; retry++) {
      for (int i = 0; i < 1000; i++) {
        report.failed("q" + i, "svc" + i, t0, "IOException: Timed out", i < 10 ? 2 : 0);
      }
    }
    assertEquals(
        1,
        warnings.size(),
        "5,000 failed lookups, the first lines: "
            + warnings.subList(0, Math.min(3, warnings.size())));
    assertTrue(warnings.get(0).contains("DNS lookups are failing"), warnings.get(0));
    assertEquals(1000, report.failing());

    queued = 9000;
    report.tick(t0.plusSeconds(30));
    assertEquals(2, warnings.size());
    String summary = warnings.get(1);
    assertTrue(summary.contains("1000 name(s) failing"), summary);
    assertTrue(summary.contains("since 2026-12-07T03:00:00Z"), summary);
    assertTrue(summary.contains("keeping their 20 last known address(es)"), summary);
    assertTrue(summary.contains("among them svc0, svc1, svc10"), summary);
    assertTrue(summary.contains("9000 more lookup(s) queued behind them"), summary);

    for (int i = 0; i < 1000; i++) {
      report.settled("q" + i);
    }
    report.tick(t0.plusSeconds(60));
    assertEquals(2, warnings.size(), "no summary once all answer");
    assertEquals(1, infos.size());
    assertTrue(infos.get(0).contains("DNS answers again"), infos.get(0));
    assertTrue(infos.get(0).contains("for 60 s, for up to 1000 name(s)"), infos.get(0));

    report.tick(t0.plusSeconds(90));
    assertEquals(2, warnings.size());
    assertEquals(1, infos.size(), "a quiet DNS logs nothing");
  }

  @Test
  void a_second_outage_is_announced_again() {
    report.failed("a", "a", t0, "SERVFAIL", 0);
    report.settled("a");
    report.tick(t0.plusSeconds(1));
    report.failed("a", "a", t0.plusSeconds(5), "SERVFAIL", 0);
    assertEquals(
        2, warnings.stream().filter(w -> w.contains("are failing")).count(), warnings.toString());
  }
}
