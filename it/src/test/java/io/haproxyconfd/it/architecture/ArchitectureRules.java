package io.haproxyconfd.it.architecture;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noFields;

import com.tngtech.archunit.base.DescribedPredicate;
import com.tngtech.archunit.core.domain.JavaAccess;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.lang.ArchRule;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * The architecture rules that Maven's module graph cannot enforce, for a root package: the real
 * one, or a fixture that breaks every rule on purpose. Which module may depend on which is the
 * poms' business: the domain's pom has no dependency, the ports' only the domain, no adapter's
 * another adapter or the app, so such a violation does not compile. What compiles anyway, and is
 * caught here: I/O, threads and clocks in the domain (all in the JDK), Guice reaching an adapter
 * transitively, adapter implementations made public, and field injection.
 */
final class ArchitectureRules {
  private ArchitectureRules() {}

  static final String[] INJECTION = {"com.google.inject..", "jakarta.inject..", "javax.inject.."};

  /** JDK types that do I/O. {@code java.net.IDN} converts strings and is allowed. */
  static final DescribedPredicate<JavaClass> IO =
      DescribedPredicate.describe(
          "do I/O (files, sockets, HTTP, name lookups, the console)",
          c ->
              c.getPackageName().startsWith("java.nio.file")
                  || c.getPackageName().startsWith("java.nio.channels")
                  || (c.getPackageName().startsWith("java.net")
                      && !c.getFullName().equals("java.net.IDN"))
                  || Set.of(
                          "java.io.File",
                          "java.io.FileInputStream",
                          "java.io.FileOutputStream",
                          "java.io.FileReader",
                          "java.io.FileWriter",
                          "java.io.RandomAccessFile",
                          "java.io.PrintStream",
                          "java.io.Console")
                      .contains(c.getFullName()));

  /** JDK types that start, coordinate or schedule threads. */
  static final DescribedPredicate<JavaClass> CONCURRENCY =
      DescribedPredicate.describe(
          "start, schedule or coordinate threads",
          c ->
              c.getPackageName().startsWith("java.util.concurrent")
                  || c.isAssignableTo(Thread.class)
                  || c.getFullName().equals("java.util.Timer"));

  /** Reading the time: a domain gets the time it needs handed to it. */
  static final DescribedPredicate<JavaAccess<?>> CLOCK =
      DescribedPredicate.describe(
          "read the system clock",
          a -> {
            String owner = a.getTargetOwner().getFullName();
            String name = a.getName();
            return (owner.startsWith("java.time.") && name.equals("now"))
                || (owner.equals("java.time.Clock") && name.startsWith("system"))
                || (owner.equals("java.lang.System")
                    && (name.equals("currentTimeMillis") || name.equals("nanoTime")));
          });

  static Map<String, ArchRule> forRoot(String root) {
    Map<String, ArchRule> rules = new LinkedHashMap<>();
    String domain = root + ".domain..";
    rules.put(
        "the domain does no I/O",
        noClasses().that().resideInAPackage(domain).should().dependOnClassesThat(IO));
    rules.put(
        "the domain uses no threads",
        noClasses().that().resideInAPackage(domain).should().dependOnClassesThat(CONCURRENCY));
    rules.put(
        "the domain reads no clock",
        noClasses().that().resideInAPackage(domain).should().accessTargetWhere(CLOCK));
    rules.put(
        "only the app knows Guice",
        noClasses()
            .that()
            .resideOutsideOfPackage(root + ".app..")
            .and()
            .resideInAPackage(root + "..")
            .should()
            .dependOnClassesThat()
            .resideInAnyPackage(INJECTION));
    rules.put(
        "adapter implementations of a port are not public",
        classes()
            .that()
            .resideInAPackage(root + ".adapters..")
            .and()
            .implement(
                DescribedPredicate.describe(
                    "a port", c -> c.getPackageName().equals(root + ".ports")))
            .should()
            .notBePublic());
    rules.put(
        "no field injection",
        noFields()
            .that()
            .areDeclaredInClassesThat()
            .resideInAPackage(root + "..")
            .should()
            .beAnnotatedWith("com.google.inject.Inject")
            .orShould()
            .beAnnotatedWith("jakarta.inject.Inject")
            .orShould()
            .beAnnotatedWith("javax.inject.Inject"));
    return rules;
  }
}
