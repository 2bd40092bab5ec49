package io.haproxyconfd.domain;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import org.junit.jupiter.api.Test;

class CertificateTest {

  @Test
  void reads_an_rsa_bundle_and_exposes_names_and_expiry() {
    Certificate cert = Certificate.parse(TestCertificates.rsa("example.org", "www.example.org"));
    assertEquals(List.of("example.org", "www.example.org"), cert.names());
    Instant now = Instant.now();
    assertTrue(cert.notAfter().isAfter(now.plus(29, ChronoUnit.DAYS)));
    assertFalse(cert.isExpiredAt(now));
    assertTrue(cert.isExpiredAt(now.plus(31, ChronoUnit.DAYS)));
    assertEquals(64, cert.fingerprint().length());
  }

  @Test
  void reads_ec_and_legacy_key_encodings() {
    String ec = TestCertificates.ec("ec.example.org");
    assertEquals(List.of("ec.example.org"), Certificate.parse(ec).names());
    String sec1 = TestCertificates.traditional(ec);
    assertTrue(sec1.contains("BEGIN EC PRIVATE KEY"));
    assertEquals(Certificate.parse(ec), Certificate.parse(sec1));
    String pkcs1 = TestCertificates.traditional(TestCertificates.rsa("example.org"));
    assertTrue(pkcs1.contains("BEGIN RSA PRIVATE KEY"));
    assertEquals(List.of("example.org"), Certificate.parse(pkcs1).names());
  }

  @Test
  void re_encodes_the_bundle_so_that_no_input_text_reaches_the_file() {
    String bundle = TestCertificates.rsa("example.org");
    Certificate cert = Certificate.parse("\n\n" + bundle.replace("\n", "\r\n") + "\n");
    assertTrue(cert.pem().startsWith("-----BEGIN CERTIFICATE-----\n"));
    assertTrue(cert.pem().endsWith("-----END PRIVATE KEY-----\n"));
    assertFalse(cert.pem().contains("\r"));
  }

  @Test
  void refuses_a_key_that_belongs_to_another_certificate() {
    String a = TestCertificates.rsa("a.example.org");
    String b = TestCertificates.rsa("b.example.org");
    var e =
        assertThrows(
            IllegalArgumentException.class,
            () -> Certificate.parse(TestCertificates.mismatched(a, b)));
    assertEquals("the private key belongs to none of the certificates", e.getMessage());
  }

  @Test
  void refuses_bundles_with_missing_or_extra_parts() {
    String bundle = TestCertificates.rsa("example.org");
    assertReason("no private key", TestCertificates.certificatePart(bundle));
    assertReason("no CERTIFICATE", TestCertificates.keyPart(bundle));
    assertReason("outside BEGIN/END", bundle + "\nglobal\n  daemon\n");
    assertReason("more than one key", bundle + TestCertificates.keyPart(bundle));
    assertReason("not valid base64", bundle.replaceFirst("MII", "M=I"));
    assertReason("not an X.509", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
    assertReason(
        "encrypted",
        "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n");
    assertReason("empty", "   ");
  }

  private static void assertReason(String expected, String pem) {
    var e = assertThrows(IllegalArgumentException.class, () -> Certificate.parse(pem));
    assertTrue(e.getMessage().contains(expected), e.getMessage() + " should say " + expected);
  }

  @Test
  void takes_a_chain_in_either_order_and_serves_it_leaf_first() {
    TestCertificates.Chain chain = TestCertificates.chain("chain.example.org");
    Certificate given = Certificate.parse(chain.leaf() + chain.ca() + chain.key());
    Certificate reversed = Certificate.parse(chain.ca() + chain.key() + chain.leaf());
    assertEquals(given, reversed);
    assertEquals(List.of("chain.example.org"), reversed.names());
    String pem = reversed.pem();
    assertTrue(
        pem.indexOf(body(chain.leaf())) >= 0
            && pem.indexOf(body(chain.leaf())) < pem.indexOf(body(chain.ca())),
        "leaf first, then its issuer");
  }

  @Test
  void takes_ec_parameters_before_the_key_and_keeps_dh_parameters() {
    String ec = TestCertificates.ecWithParameters("ecp.example.org");
    assertTrue(ec.contains("BEGIN EC PARAMETERS"));
    Certificate cert = Certificate.parse(ec);
    assertEquals(List.of("ecp.example.org"), cert.names());
    assertFalse(cert.pem().contains("EC PARAMETERS"));

    String dh = TestCertificates.dhParameters();
    Certificate withDh = Certificate.parse(TestCertificates.rsa("dh.example.org") + dh);
    assertTrue(withDh.pem().endsWith(dh), withDh.pem());
    var twice =
        assertThrows(
            IllegalArgumentException.class,
            () -> Certificate.parse(TestCertificates.rsa("dh.example.org") + dh + dh));
    assertTrue(twice.getMessage().contains("DH PARAMETERS"), twice.getMessage());
  }

  /** The base64 of a PEM block, on one line. */
  private static String body(String pem) {
    return pem.lines().filter(l -> !l.startsWith("-----")).findFirst().orElseThrow();
  }
}
