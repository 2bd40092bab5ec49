package io.haproxyconfd.app;

import io.haproxyconfd.domain.KeyLayout;
import io.haproxyconfd.domain.KeySnapshot;
import io.haproxyconfd.domain.ParseResult;
import io.haproxyconfd.domain.Problem;
import io.haproxyconfd.domain.ProxyId;
import io.haproxyconfd.ports.ProxyException;
import java.io.PrintWriter;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.function.Predicate;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Spec;

/** {@code haproxy-confd check}: reads the keys once and lists every problem. */
@Command(
    name = "check",
    mixinStandardHelpOptions = true,
    description =
        "Read the keys once, resolve the backends, run HAProxy's own check on the result, and list"
            + " every problem by key; exit 1 if there is any.",
    footer = ExitCode.HELP)
final class CheckCommand implements Callable<Integer> {
  @Mixin StoreOptions store;

  /** For the ports HAProxy would listen on: a TCP service on one of them is a problem. */
  @Mixin ProxyOptions listen;

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  private static int refused(List<Problem> refused, Predicate<String> key) {
    return (int) refused.stream().filter(p -> key.test(p.key())).count();
  }

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    ProxyId proxy = store.proxyId();
    try (Components components = Components.build(store, listen)) {
      Pipeline.Prepared prepared =
          Pipeline.run(
              components.source,
              proxy,
              store.parseOptions(Instant.now(), listen),
              components.resolver);
      KeySnapshot snapshot = prepared.snapshot();
      ParseResult parsed = prepared.parsed();
      BackendAssignment.Result resolved = prepared.resolved();
      Optional<String> v2 = store.v2Hint(proxy, snapshot.entries().size());
      v2.ifPresent(out::println);
      List<String> foreign = ForeignSettings.notes(System.getenv());
      foreign.forEach(out::println);
      parsed.problems().forEach(p -> out.println(p));
      resolved.warnings().forEach(w -> out.println(w));
      List<Problem> refused;
      try {
        refused = components.proxy.check(resolved.config());
      } catch (ProxyException e) {
        err.println("haproxy-confd: HAProxy's own check could not run: " + e.getMessage());
        return ExitCode.PROXY_FAILED;
      }
      refused.forEach(p -> out.println(p));
      out.printf(
          "%d HTTP and %d TCP services at revision %d; %d left out; %d problems, %d backend"
              + " warnings%n",
          resolved.config().http().size() - refused(refused, KeyLayout::isHttp),
          resolved.config().tcp().size() - refused(refused, KeyLayout::isTcp),
          snapshot.revision(),
          parsed.leftOut().size() + refused.size(),
          parsed.problems().stream().filter(p -> p.effect() != Problem.Effect.WARNING).count()
              + refused.size(),
          resolved.warnings().size());
      boolean clean =
          parsed.problems().stream().allMatch(p -> p.effect() == Problem.Effect.WARNING)
              && resolved.warnings().isEmpty()
              && refused.isEmpty()
              && v2.isEmpty()
              && foreign.isEmpty();
      return clean ? ExitCode.OK : ExitCode.PROBLEMS;
    }
  }
}
