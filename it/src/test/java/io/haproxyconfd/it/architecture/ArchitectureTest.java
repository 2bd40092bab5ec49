package io.haproxyconfd.it.architecture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

class ArchitectureTest {
  private static final String ROOT = "io.haproxyconfd";
  private static final String BROKEN = "io.haproxyconfd.it.architecture.broken";

  /** Every package the rules name; each must hold classes, or its rule would pass vacuously. */
  static final List<String> MODULE_PACKAGES =
      List.of(
          "domain",
          "ports",
          "app",
          "adapters.etcd",
          "adapters.dns",
          "adapters.haproxy",
          "adapters.consul");

  private static final JavaClasses PRODUCTION =
      new ClassFileImporter()
          .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
          .withImportOption(location -> !location.contains("-tests.jar"))
          .importPackages(ROOT);

  private static final JavaClasses FIXTURE = new ClassFileImporter().importPackages(BROKEN);

  @TestFactory
  Stream<DynamicTest> the_code_keeps_every_rule() {
    return ArchitectureRules.forRoot(ROOT).entrySet().stream()
        .map(e -> DynamicTest.dynamicTest(e.getKey(), () -> e.getValue().check(PRODUCTION)));
  }

  @Test
  void every_package_a_rule_names_holds_classes() {
    for (String pkg : MODULE_PACKAGES) {
      String name = ROOT + "." + pkg;
      assertTrue(
          PRODUCTION.stream().anyMatch(c -> c.getPackageName().startsWith(name)),
          name + " holds no class: the rules about it would pass vacuously");
    }
  }

  /** The fixture class that breaks each rule, which the rule's failure must name. */
  static final Map<String, String> VIOLATORS =
      Map.of(
          "the domain does no I/O", BROKEN + ".domain.ImpureDomain",
          "the domain uses no threads", BROKEN + ".domain.ThreadedDomain",
          "the domain reads no clock", BROKEN + ".domain.TimedDomain",
          "only the app knows Guice", BROKEN + ".adapters.two.AdapterTwo",
          "adapter implementations of a port are not public", BROKEN + ".adapters.two.AdapterTwo",
          "no field injection", BROKEN + ".adapters.two.AdapterTwo");

  @TestFactory
  Stream<DynamicTest> every_rule_fails_on_code_that_breaks_it_and_names_the_class() {
    Map<String, ArchRule> rules = ArchitectureRules.forRoot(BROKEN);
    assertFalse(FIXTURE.isEmpty());
    assertEquals(rules.keySet(), VIOLATORS.keySet(), "every rule has a fixture that breaks it");
    return rules.entrySet().stream()
        .map(
            e ->
                DynamicTest.dynamicTest(
                    e.getKey(),
                    () -> {
                      AssertionError failure =
                          assertThrows(AssertionError.class, () -> e.getValue().check(FIXTURE));
                      // "checked no classes" is an AssertionError too: the violator must be named.
                      String violator = VIOLATORS.get(e.getKey());
                      assertTrue(
                          failure.getMessage().contains(violator),
                          "the failure does not name " + violator + ": " + failure.getMessage());
                    }));
  }
}
