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
    assertEquals("private key does not match the first certificate", e.getMessage());
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
}
