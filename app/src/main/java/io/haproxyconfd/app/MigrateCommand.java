package io.haproxyconfd.app;

import io.haproxyconfd.adapters.etcd.EtcdMigration;
import io.haproxyconfd.domain.Problem;
import io.haproxyconfd.ports.StoreException;
import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code haproxy-confd migrate}: copies the keys from etcd's v2 API into v3. */
@Command(
    name = "migrate",
    mixinStandardHelpOptions = true,
    description =
        "Copy this proxy's keys from etcd's v2 API (the seed image's store) into v3: prints what"
            + " it would do; --apply does it. A v3 key with another value is never overwritten;"
            + " run twice, it changes nothing. Exit 1 if some v3 key differs.",
    footer = ExitCode.HELP)
final class MigrateCommand implements Callable<Integer> {
  @Mixin StoreOptions store;

  @Option(
      names = "--apply",
      description = "Write the keys to v3 (without it: only print the plan).")
  boolean apply;

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws StoreException {
    PrintWriter out = spec.commandLine().getOut();
    List<EtcdMigration.Step> steps =
        EtcdMigration.run(store.etcdSettings(), store.proxyId(), apply);
    long copied = 0;
    long differs = 0;
    for (EtcdMigration.Step s : steps) {
      switch (s.action()) {
        case COPY -> {
          copied++;
          out.println((apply ? "copied " : "would copy ") + s.key());
        }
        case DIFFERS -> {
          differs++;
          out.println(
              new Problem(
                  s.key(),
                  s.v3Value(),
                  "v3 already holds another value than v2's \""
                      + Problem.shorten(s.v2Value())
                      + "\"; left as it is",
                  Problem.Effect.WARNING));
        }
        case SAME -> {}
      }
    }
    out.printf(
        "%d keys in v2: %d %s, %d already in v3, %d differ in v3 (left as they are)%s%n",
        steps.size(),
        copied,
        apply ? "copied" : "to copy",
        steps.size() - copied - differs,
        differs,
        apply || copied == 0 ? "" : "; --apply copies them");
    return differs == 0 ? ExitCode.OK : ExitCode.PROBLEMS;
  }
}
