package io.haproxyconfd.adapters.haproxy;

import io.haproxyconfd.domain.ProxyConfig;
import io.haproxyconfd.domain.ServiceName;
import io.haproxyconfd.ports.ProxyException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Finds the services HAProxy refuses in a config, so that only they are left out. Pure given the
 * check function: it renders nothing and runs nothing itself.
 *
 * <p>Only {@code [ALERT]} lines count: a {@code [WARNING]} names a line too (an ignored option, a
 * rule without effect), but HAProxy accepts that config, and the service it names is healthy. An
 * alert points at a line; the section that line is in names the service. When no alert names a
 * service, the services are halved until the one that breaks the check is found.
 */
final class RefusalSearch {
  private static final Pattern ALERT_LOCATION = Pattern.compile(":(\\d+)\\]");

  private RefusalSearch() {}

  /** What {@code haproxy -c} said of one rendered config. */
  record Trial(boolean valid, String text, String output) {
    /** The first {@code [ALERT]} line, or the whole output if there is none. */
    String firstAlert() {
      return alerts().stream().findFirst().orElse(output.strip());
    }

    List<String> alerts() {
      return output.lines().filter(l -> l.startsWith("[ALERT]")).toList();
    }
  }

  /** Renders and checks a config. */
  interface Checker {
    Trial check(ProxyConfig config) throws ProxyException;
  }

  /**
   * The outcome of a search.
   *
   * @param accepted the config HAProxy accepts: the desired one without the refused services, or
   *     with their earlier versions where {@code fallback} had one HAProxy accepts
   * @param last the trial of {@code accepted}
   * @param refused each refused service with HAProxy's reason
   * @param kept the refused services for which the earlier version was kept
   * @param wholeConfig HAProxy's reason when even the config without any service is refused
   */
  record Result(
      ProxyConfig accepted,
      Trial last,
      Map<ServiceName, String> refused,
      Set<ServiceName> kept,
      Optional<String> wholeConfig) {}

  /**
   * Checks {@code desired}; while HAProxy refuses it, takes out the services the alerts point at
   * (using their versions in {@code fallback} instead, when it has them) and checks again.
   */
  static Result search(ProxyConfig desired, ProxyConfig fallback, Checker checker)
      throws ProxyException {
    ProxyConfig candidate = desired;
    Map<ServiceName, String> refused = new LinkedHashMap<>();
    Set<ServiceName> kept = new TreeSet<>();
    Trial trial = checker.check(candidate);
    while (!trial.valid()) {
      Set<ServiceName> found = culprits(candidate, trial);
      if (found.isEmpty()) {
        found = bisect(candidate, checker);
      }
      if (found.isEmpty()) {
        return new Result(
            candidate,
            trial,
            refused,
            kept,
            Optional.of("HAProxy refused the config: " + trial.firstAlert()));
      }
      for (ServiceName name : found) {
        refused.putIfAbsent(name, "HAProxy refused it: " + trial.firstAlert());
        // A service whose earlier version is refused as well is left out altogether.
        Optional<ProxyConfig> earlier =
            kept.remove(name) ? Optional.empty() : candidate.replacing(name, fallback);
        if (earlier.isPresent()) {
          candidate = earlier.get();
          kept.add(name);
        } else {
          candidate = candidate.without(Set.of(name));
        }
      }
      trial = checker.check(candidate);
    }
    return new Result(candidate, trial, refused, kept, Optional.empty());
  }

  /**
   * The services whose sections hold the lines the alerts point at, or whose certificate failed.
   */
  static Set<ServiceName> culprits(ProxyConfig config, Trial trial) {
    Set<ServiceName> found = new TreeSet<>();
    String[] lines = trial.text().split("\n", -1);
    List<String> alerts = trial.alerts();
    for (String alert : alerts) {
      Matcher m = ALERT_LOCATION.matcher(alert);
      while (m.find()) {
        int line = Integer.parseInt(m.group(1));
        for (int i = Math.min(line, lines.length) - 1; i >= 0; i--) {
          String header = lines[i];
          if (!header.isEmpty() && !Character.isWhitespace(header.charAt(0))) {
            Plan.serviceOfSection(header).ifPresent(found::add);
            break;
          }
        }
      }
    }
    String alertText = String.join("\n", alerts);
    config
        .http()
        .forEach(
            s ->
                s.policy()
                    .certificate()
                    .filter(cert -> alertText.contains(cert.fingerprint()))
                    .ifPresent(cert -> found.add(s.name())));
    found.retainAll(allNames(config));
    return found;
  }

  /** One service whose removal makes the check pass, found by halving; empty if none does. */
  private static Set<ServiceName> bisect(ProxyConfig config, Checker checker)
      throws ProxyException {
    List<ServiceName> names = new ArrayList<>(allNames(config));
    if (names.isEmpty() || !checker.check(config.without(new HashSet<>(names))).valid()) {
      return new TreeSet<>();
    }
    while (names.size() > 1) {
      List<ServiceName> half = names.subList(0, names.size() / 2);
      boolean goodWithoutHalf = checker.check(config.without(new HashSet<>(half))).valid();
      names =
          goodWithoutHalf
              ? new ArrayList<>(half)
              : new ArrayList<>(names.subList(names.size() / 2, names.size()));
    }
    return new TreeSet<>(names);
  }

  private static Set<ServiceName> allNames(ProxyConfig config) {
    Set<ServiceName> names = new TreeSet<>();
    config.http().forEach(s -> names.add(s.name()));
    config.tcp().forEach(s -> names.add(s.name()));
    return names;
  }
}
