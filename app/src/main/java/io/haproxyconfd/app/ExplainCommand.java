package io.haproxyconfd.app;

import io.haproxyconfd.domain.ConfigParser;
import io.haproxyconfd.domain.ParseResult;
import io.haproxyconfd.ports.RouteExplanation;
import java.io.PrintWriter;
import java.time.Instant;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code haproxy-confd explain HOST PATH}: which service the current keys send a request to. */
@Command(
    name = "explain",
    mixinStandardHelpOptions = true,
    description =
        "Read the keys once and say which service answers a request for HOST and PATH, and why:"
            + " every rule that matches it, in the order HAProxy tries them. Exit 1 if no service"
            + " answers.",
    footer = ExitCode.HELP)
final class ExplainCommand implements Callable<Integer> {
  @Mixin StoreOptions store;
  @Mixin ProxyOptions proxy;
  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Parameters(
      index = "0",
      paramLabel = "HOST",
      description = "The Host header (a port is ignored).")
  String host;

  @Parameters(
      index = "1",
      paramLabel = "PATH",
      defaultValue = "/",
      description = "The path, with its query string if any (default /).")
  String path;

  @Override
  public Integer call() throws Exception {
    if (!path.startsWith("/")) {
      throw new IllegalArgumentException("PATH '" + path + "' must start with /");
    }
    try (Components components = Components.build(store, proxy)) {
      ParseResult parsed =
          ConfigParser.parse(
              components.source.read(store.proxyId()), store.parseOptions(Instant.now(), proxy));
      RouteExplanation e = components.proxy.explain(parsed.config(), host, path);
      print(e, spec.commandLine().getOut());
      return e.service().isPresent() ? ExitCode.OK : ExitCode.PROBLEMS;
    }
  }

  static void print(RouteExplanation e, PrintWriter out) {
    out.println(
        e.host()
            + " "
            + e.path()
            + ": "
            + e.service().map(s -> "answered by " + s).orElse("no service answers (503)"));
    int n = 1;
    for (RouteExplanation.Match m : e.matches()) {
      out.println(
          "  "
              + n++
              + ". "
              + m.kind()
              + " '"
              + m.rule()
              + "' of "
              + m.service()
              + (m.answers() ? ": answers" : ": matches too, shadowed by the rule above"));
    }
    if (e.matches().isEmpty()) {
      out.println("  no rule matches: no host, wildcard or path of any service");
    }
  }
}
