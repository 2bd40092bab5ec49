package io.haproxyconfd.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

class CliTest {
  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();

  private int run(String... args) {
    return Cli.execute(new PrintWriter(out, true), new PrintWriter(err, true), args);
  }

  @Test
  void help_lists_the_commands_and_the_exit_codes() {
    assertEquals(0, run("--help"));
    assertTrue(out.toString().contains("check"), out.toString());
    assertTrue(out.toString().contains("Exit status"), out.toString());
  }

  @Test
  void check_help_names_the_seed_environment_variables() {
    assertEquals(0, run("check", "--help"));
    for (String env : new String[] {"HAPROXY_ID", "ETCD_NODE", "DNS_SERVERS"}) {
      assertTrue(out.toString().contains(env), env + " in " + out);
    }
  }

  @Test
  void every_flag_of_every_command_has_an_environment_variable_named_in_its_help() {
    List<String> without = new ArrayList<>();
    for (CommandLine command : new CommandLine(new Cli()).getSubcommands().values()) {
      for (OptionSpec o : command.getCommandSpec().options()) {
        if (o.usageHelp() || o.versionHelp()) {
          continue;
        }
        // The annotation's text: picocli hands out the default with ${env:...} already resolved.
        String dflt =
            ((java.lang.reflect.Field) o.userObject())
                .getAnnotation(CommandLine.Option.class)
                .defaultValue();
        Matcher env = Pattern.compile("^\\$\\{env:([A-Z0-9_]+)").matcher(dflt);
        if (!env.find()
            || !Pattern.compile("\\benv " + env.group(1) + "\\b")
                .matcher(String.join(" ", o.description()))
                .find()) {
          without.add(command.getCommandName() + " " + o.longestName());
        }
      }
    }
    // Where to write, and whether to write, are per-run arguments, not settings of the proxy.
    assertEquals(List.of("render --out", "migrate --apply"), without);
  }

  @Test
  void version_prints_one_line() {
    assertEquals(0, run("--version"));
    assertTrue(out.toString().startsWith("haproxy-confd "));
  }

  @Test
  void a_wrong_flag_is_a_usage_error_without_a_stack_trace() {
    assertEquals(ExitCode.USAGE, run("check", "--no-such-flag"));
    assertTrue(err.toString().contains("--no-such-flag"), err.toString());
    assertFalse(err.toString().contains("\tat "), err.toString());
  }

  @Test
  void a_bad_setting_is_one_line_and_exit_2() {
    assertEquals(
        ExitCode.USAGE, run("check", "--haproxy-id", "bad id", "--dns-servers", "127.0.0.1"));
    assertEquals(1, err.toString().strip().lines().count(), err.toString());
    assertTrue(err.toString().startsWith("haproxy-confd: HAPROXY_ID"), err.toString());
  }

  @Test
  void a_bad_duration_is_a_usage_error() {
    assertEquals(ExitCode.USAGE, run("check", "--haproxy-id", "a", "--store-timeout", "soon"));
    assertTrue(err.toString().contains("not a duration"), err.toString());
  }

  @Test
  void the_dns_settings_reach_the_resolver_and_a_wrong_one_is_named() throws Exception {
    CheckCommand check = new CheckCommand();
    new CommandLine(check)
        .parseArgs(
            "--dns-servers", "127.0.0.1:5353",
            "--dns-records", "a",
            "--dns-nxdomain-grace", "0s",
            "--dns-start-timeout", "5s",
            "--dns-max-in-flight", "8");
    io.haproxyconfd.adapters.dns.DnsSettings dns = check.store.dnsSettings();
    assertEquals(io.haproxyconfd.adapters.dns.DnsSettings.Records.A, dns.records());
    assertEquals(java.time.Duration.ZERO, dns.emptyGrace());
    assertEquals(java.time.Duration.ofSeconds(5), dns.startTimeout());
    assertEquals(8, dns.maxInFlight());

    CheckCommand defaults = new CheckCommand();
    new CommandLine(defaults).parseArgs("--dns-servers", "127.0.0.1");
    io.haproxyconfd.adapters.dns.DnsSettings d = defaults.store.dnsSettings();
    assertEquals(io.haproxyconfd.adapters.dns.DnsSettings.Records.BOTH, d.records());
    assertEquals(java.time.Duration.ofSeconds(30), d.emptyGrace());
    assertEquals(64, d.maxInFlight());

    assertEquals(ExitCode.USAGE, run("check", "--haproxy-id", "a", "--dns-records", "MX"));
    assertTrue(err.toString().contains("'MX' is not A, AAAA or both"), err.toString());
    assertFalse(err.toString().contains("\tat "), err.toString());
  }
}
