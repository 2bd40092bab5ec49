package io.haproxyconfd.it;

import io.haproxyconfd.app.Cli;
import java.io.PrintWriter;
import java.io.StringWriter;

/** A command of the daemon's command line run in the test's JVM, its output and errors as one. */
record InProcessCli(int status, String out) {
  static InProcessCli run(String... args) {
    StringWriter out = new StringWriter();
    int status = Cli.execute(new PrintWriter(out, true), new PrintWriter(out, true), args);
    return new InProcessCli(status, out.toString());
  }
}
