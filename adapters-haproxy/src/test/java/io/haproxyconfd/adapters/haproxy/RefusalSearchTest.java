package io.haproxyconfd.adapters.haproxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.haproxyconfd.domain.ProxyConfig;
import io.haproxyconfd.domain.ServiceName;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The search for the service HAProxy refuses, with HAProxy's own message shapes (2.6.12). */
class RefusalSearchTest {
  static final String TEXT =
      String.join(
          "\n",
          "global",
          "  master-worker",
          "backend http-a",
          "  option httplog",
          "backend http-b",
          "  no-such-keyword 1",
          "");
  static final String WARNING =
      "[WARNING]  (7) : config : parsing [h.cfg:4] : backend 'http-a' : 'option httplog'"
          + " directive is ignored in backends.";
  static final String ALERT =
      "[ALERT]    (7) : config : parsing [h.cfg:6] : unknown keyword 'no-such-keyword' in"
          + " 'backend' section";

  static final ProxyConfig BOTH =
      HaproxyFixture.config(
          "services/a/domain",
          "a.example.org",
          "services/a/w1",
          "10.0.0.1:80",
          "services/b/domain",
          "b.example.org",
          "services/b/w1",
          "10.0.0.2:80");

  @Test
  void a_warning_names_no_culprit_and_an_alert_names_its_section() {
    assertEquals(
        Set.of(),
        RefusalSearch.culprits(BOTH, new RefusalSearch.Trial(true, TEXT, WARNING + "\n")));
    assertEquals(
        Set.of(ServiceName.of("b")),
        RefusalSearch.culprits(
            BOTH, new RefusalSearch.Trial(false, TEXT, WARNING + "\n" + ALERT + "\n")));
  }

  @Test
  void the_refused_service_is_left_out_or_kept_on_its_earlier_version() throws Exception {
    List<ProxyConfig> checked = new ArrayList<>();
    RefusalSearch.Checker checker =
        config -> {
          checked.add(config);
          boolean hasBadB =
              config
                      .httpService(ServiceName.of("b"))
                      .map(s -> s.backends().size() == 1)
                      .orElse(false)
                  && config
                      .httpService(ServiceName.of("b"))
                      .get()
                      .backends()
                      .get(0)
                      .toString()
                      .equals("10.0.0.2:80");
          return new RefusalSearch.Trial(!hasBadB, TEXT, hasBadB ? ALERT : WARNING);
        };
    RefusalSearch.Result out = RefusalSearch.search(BOTH, ProxyConfig.EMPTY, checker);
    assertEquals(Set.of(ServiceName.of("b")), out.refused().keySet());
    assertTrue(out.refused().get(ServiceName.of("b")).contains("unknown keyword"));
    assertEquals(List.of(ServiceName.of("a")), names(out.accepted()));
    assertTrue(out.kept().isEmpty());

    ProxyConfig earlier =
        HaproxyFixture.config(
            "services/a/domain",
            "a.example.org",
            "services/a/w1",
            "10.0.0.1:80",
            "services/b/domain",
            "b.example.org",
            "services/b/w1",
            "10.0.0.9:80");
    RefusalSearch.Result kept = RefusalSearch.search(BOTH, earlier, checker);
    assertEquals(Set.of(ServiceName.of("b")), kept.kept());
    assertEquals(
        "10.0.0.9:80",
        kept.accepted().httpService(ServiceName.of("b")).get().backends().get(0).toString());
  }

  private static List<ServiceName> names(ProxyConfig config) {
    return config.http().stream().map(s -> s.name()).toList();
  }
}
