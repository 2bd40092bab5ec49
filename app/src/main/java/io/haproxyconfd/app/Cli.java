package io.haproxyconfd.app;

import io.haproxyconfd.ports.StoreException;
import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code haproxy-confd}: the command line. */
@Command(
    name = "haproxy-confd",
    mixinStandardHelpOptions = true,
    versionProvider = Cli.Version.class,
    description =
        "Keeps HAProxy configured from the keys under /haproxy-<HAPROXY_ID>/ in etcd or Consul.",
    footer = ExitCode.HELP,
    subcommands = {
      RunCommand.class,
      CheckCommand.class,
      RenderCommand.class,
      ExplainCommand.class,
      MigrateCommand.class
    })
public final class Cli implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "a command is needed");
  }

  public static void main(String[] args) {
    String level = System.getenv().getOrDefault("LOG_LEVEL", "info").strip().toLowerCase();
    if (!java.util.Set.of("trace", "debug", "info", "warn", "error").contains(level)) {
      System.err.println(
          "LOG_LEVEL: '" + level + "' is not one of trace, debug, info, warn, error");
      System.exit(ExitCode.USAGE);
    }
    // Before the first logger exists: slf4j-simple reads its levels once. Our loggers only, so
    // that debug does not bring in every library's.
    System.setProperty("org.slf4j.simpleLogger.log.io.haproxyconfd", level);
    // gRPC and Netty log through java.util.logging: one format, one line per event.
    org.slf4j.bridge.SLF4JBridgeHandler.removeHandlersForRootLogger();
    org.slf4j.bridge.SLF4JBridgeHandler.install();
    PrintWriter out = new PrintWriter(System.out, true);
    PrintWriter err = new PrintWriter(System.err, true);
    int status = execute(out, err, args);
    // Autoflush covers println only: render prints the config with print().
    out.flush();
    err.flush();
    System.exit(status);
  }

  /** Runs a command line with the given output streams; returns the exit status. */
  public static int execute(PrintWriter out, PrintWriter err, String... args) {
    CommandLine cli = new CommandLine(new Cli());
    cli.setOut(out);
    cli.setErr(err);
    cli.setExitCodeExceptionMapper(e -> ExitCode.USAGE);
    cli.setExecutionExceptionHandler(
        (e, commandLine, parseResult) -> {
          // A user's mistake is one line, never a stack trace.
          if (e instanceof IllegalArgumentException) {
            commandLine.getErr().println("haproxy-confd: " + e.getMessage());
            return ExitCode.USAGE;
          }
          if (e instanceof SetupException s) {
            commandLine.getErr().println("haproxy-confd: " + s.getMessage());
            return s.exitCode();
          }
          // The store unreachable, or refusing: one line, and the status that says which.
          if (e instanceof StoreException s) {
            commandLine.getErr().println("haproxy-confd: " + s.getMessage());
            return s.isPermanent() ? ExitCode.STORE_REFUSED : ExitCode.STORE_UNAVAILABLE;
          }
          throw e;
        });
    return cli.execute(args);
  }

  /** The version from the jar manifest, or "development" when run from classes. */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String v = Cli.class.getPackage().getImplementationVersion();
      return new String[] {"haproxy-confd " + (v == null ? "development" : v)};
    }
  }
}
