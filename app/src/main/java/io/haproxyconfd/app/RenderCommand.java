package io.haproxyconfd.app;

import io.haproxyconfd.domain.ParseResult;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code haproxy-confd render}: prints the haproxy.cfg the current keys would give. */
@Command(
    name = "render",
    mixinStandardHelpOptions = true,
    description =
        "Read the keys once and print the haproxy.cfg they give, or write it with its files to"
            + " --out DIR (problems go to stderr).",
    footer = ExitCode.HELP)
final class RenderCommand implements Callable<Integer> {
  @Mixin StoreOptions store;
  @Mixin ProxyOptions proxy;
  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Option(
      names = "--out",
      paramLabel = "DIR",
      description =
          "Write haproxy.cfg and every map, certificate and list it refers to into DIR (made if"
              + " missing), so that 'haproxy -c -f DIR/haproxy.cfg' checks it; without it the"
              + " config is printed.")
  Path out;

  @Override
  public Integer call() throws Exception {
    try (Components components = Components.build(store, proxy)) {
      Pipeline.Prepared prepared =
          Pipeline.run(
              components.source,
              store.proxyId(),
              store.parseOptions(Instant.now(), proxy),
              components.resolver);
      ParseResult parsed = prepared.parsed();
      BackendAssignment.Result resolved = prepared.resolved();
      parsed.problems().forEach(p -> spec.commandLine().getErr().println(p));
      resolved.warnings().forEach(w -> spec.commandLine().getErr().println(w));
      if (out == null) {
        spec.commandLine().getOut().print(components.proxy.render(resolved.config()));
        return ExitCode.OK;
      }
      try {
        Path file = components.proxy.renderTo(resolved.config(), out);
        spec.commandLine().getOut().println(file);
      } catch (IOException e) {
        spec.commandLine().getErr().println("haproxy-confd: cannot write to " + out + ": " + e);
        return ExitCode.USAGE;
      }
      return ExitCode.OK;
    }
  }
}
