package io.haproxyconfd.it.architecture;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noFields;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.lang.ArchRule;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The module boundaries of DESIGN.md section 2 as ArchUnit rules, for a root package: the real one,
 * or a fixture that breaks every rule on purpose.
 */
final class ArchitectureRules {
  private ArchitectureRules() {}

  static final String[] INJECTION = {"com.google.inject..", "jakarta.inject..", "javax.inject.."};

  static Map<String, ArchRule> forRoot(String root) {
    Map<String, ArchRule> rules = new LinkedHashMap<>();
    rules.put(
        "domain depends on the JDK only",
        classes()
            .that()
            .resideInAPackage(root + ".domain..")
            .should()
            .onlyDependOnClassesThat()
            .resideInAnyPackage("java..", "javax.security..", root + ".domain.."));
    rules.put(
        "ports depend on the domain only",
        classes()
            .that()
            .resideInAPackage(root + ".ports..")
            .should()
            .onlyDependOnClassesThat()
            .resideInAnyPackage("java..", root + ".domain..", root + ".ports.."));
    rules.put(
        "adapters never depend on each other",
        slices().matching(root + ".adapters.(*)..").should().notDependOnEachOther());
    rules.put(
        "adapters never depend on the app",
        noClasses()
            .that()
            .resideInAPackage(root + ".adapters..")
            .should()
            .dependOnClassesThat()
            .resideInAPackage(root + ".app.."));
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
