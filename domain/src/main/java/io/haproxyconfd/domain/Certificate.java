package io.haproxyconfd.domain;

import java.io.ByteArrayInputStream;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPrivateKey;
import java.security.spec.ECPrivateKeySpec;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeSet;
import javax.security.auth.x500.X500Principal;

/**
 * A TLS certificate bundle ({@code cert}): the leaf certificate, its chain and the private key that
 * belongs to the leaf. It can only be made by {@link #parse}, so one that exists is well-formed and
 * its key matches. {@link #pem()} is re-encoded from the parsed objects, never the input text.
 */
public final class Certificate {
  private final String pem;
  private final List<String> names;
  private final Instant notBefore;
  private final Instant notAfter;
  private final String fingerprint;

  private Certificate(
      String pem, List<String> names, Instant notBefore, Instant notAfter, String fingerprint) {
    this.pem = pem;
    this.names = List.copyOf(names);
    this.notBefore = notBefore;
    this.notAfter = notAfter;
    this.fingerprint = fingerprint;
  }

  /**
   * Parses a PEM bundle: one or more CERTIFICATE blocks in any order, one private key (PKCS#8
   * {@code PRIVATE KEY}, PKCS#1 {@code RSA PRIVATE KEY} or SEC1 {@code EC PRIVATE KEY}), and
   * optionally the {@code EC PARAMETERS} that {@code openssl ecparam -genkey} writes before its key
   * (dropped: the key names its curve) and {@code DH PARAMETERS} (kept, for HAProxy's DHE ciphers).
   * The leaf is the certificate the key belongs to; the others follow it as a chain, each after the
   * one it issued.
   *
   * @throws IllegalArgumentException with the reason, when anything is missing, malformed,
   *     encrypted or when the key belongs to none of the certificates
   */
  public static Certificate parse(String text) {
    if (text == null || text.isBlank()) {
      throw new IllegalArgumentException("certificate bundle is empty");
    }
    if (text.length() > 64 * 1024) {
      throw new IllegalArgumentException("certificate bundle is larger than 64 KiB");
    }
    List<X509Certificate> certs = new ArrayList<>();
    PrivateKey key = null;
    byte[] dhParameters = null;
    for (Pem.Block block : Pem.blocks(text)) {
      switch (block.label()) {
        case "CERTIFICATE" -> certs.add(x509(block.der()));
        case "PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY" -> {
          if (key != null) {
            throw new IllegalArgumentException("certificate bundle holds more than one key");
          }
          key = privateKey(pkcs8(block));
        }
        case "EC PARAMETERS" -> {
          // Names the curve the EC key names too.
        }
        case "DH PARAMETERS" -> {
          if (dhParameters != null) {
            throw new IllegalArgumentException("certificate bundle holds DH PARAMETERS twice");
          }
          dhParameters = dhParameters(block.der());
        }
        case "ENCRYPTED PRIVATE KEY" ->
            throw new IllegalArgumentException("encrypted private keys are not supported");
        default ->
            throw new IllegalArgumentException("unexpected PEM block '" + block.label() + "'");
      }
    }
    if (certs.isEmpty()) {
      throw new IllegalArgumentException("certificate bundle holds no CERTIFICATE");
    }
    if (key == null) {
      throw new IllegalArgumentException("certificate bundle holds no private key");
    }
    PrivateKey privateKey = key;
    X509Certificate leaf =
        certs.stream()
            .filter(c -> keyMatches(privateKey, c))
            .findFirst()
            .orElseThrow(
                () ->
                    new IllegalArgumentException(
                        "the private key belongs to none of the certificates"));
    StringBuilder canonical = new StringBuilder();
    try {
      for (X509Certificate c : chainFrom(leaf, certs)) {
        canonical.append(Pem.encode("CERTIFICATE", c.getEncoded()));
      }
      canonical.append(Pem.encode("PRIVATE KEY", key.getEncoded()));
      if (dhParameters != null) {
        canonical.append(Pem.encode("DH PARAMETERS", dhParameters));
      }
      return new Certificate(
          canonical.toString(),
          subjectNames(leaf),
          leaf.getNotBefore().toInstant(),
          leaf.getNotAfter().toInstant(),
          HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(leaf.getEncoded())));
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException("certificate cannot be encoded: " + e.getMessage());
    }
  }

  /** The leaf, then the certificate that issued it, and so on; unrelated ones last, as given. */
  private static List<X509Certificate> chainFrom(X509Certificate leaf, List<X509Certificate> all) {
    List<X509Certificate> chain = new ArrayList<>(List.of(leaf));
    List<X509Certificate> rest = new ArrayList<>(all);
    rest.remove(leaf);
    X509Certificate current = leaf;
    while (!current.getIssuerX500Principal().equals(current.getSubjectX500Principal())) {
      X500Principal issuer = current.getIssuerX500Principal();
      Optional<X509Certificate> next =
          rest.stream().filter(c -> c.getSubjectX500Principal().equals(issuer)).findFirst();
      if (next.isEmpty()) {
        break;
      }
      chain.add(next.get());
      rest.remove(next.get());
      current = next.get();
    }
    chain.addAll(rest);
    return chain;
  }

  /**
   * DH parameters as DER: a SEQUENCE of two or three INTEGERs (PKCS#3), checked by its outer shape
   * only; HAProxy's own check reads the numbers.
   */
  private static byte[] dhParameters(byte[] der) {
    if (der.length < 8 || der.length > 4096 || der[0] != 0x30) {
      throw new IllegalArgumentException("DH PARAMETERS are not a DER sequence");
    }
    return der;
  }

  /** The bundle to hand to HAProxy: certificates then the key, re-encoded. */
  public String pem() {
    return pem;
  }

  /** DNS names of the leaf: its subject alternative names, or its CN when it has none. */
  public List<String> names() {
    return names;
  }

  public Instant notBefore() {
    return notBefore;
  }

  public Instant notAfter() {
    return notAfter;
  }

  public boolean isExpiredAt(Instant now) {
    return now.isAfter(notAfter);
  }

  /** SHA-256 of the leaf certificate, hex: a short stable identity for file names and logs. */
  public String fingerprint() {
    return fingerprint;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Certificate c && c.pem.equals(pem);
  }

  @Override
  public int hashCode() {
    return pem.hashCode();
  }

  @Override
  public String toString() {
    return "Certificate" + names + " until " + notAfter + " sha256=" + fingerprint.substring(0, 16);
  }

  private static X509Certificate x509(byte[] der) {
    try {
      return (X509Certificate)
          CertificateFactory.getInstance("X.509")
              .generateCertificate(new ByteArrayInputStream(der));
    } catch (CertificateException | RuntimeException e) {
      throw new IllegalArgumentException("CERTIFICATE block is not an X.509 certificate");
    }
  }

  private static byte[] pkcs8(Pem.Block block) {
    return switch (block.label()) {
      case "RSA PRIVATE KEY" -> Pem.rsaToPkcs8(block.der());
      case "EC PRIVATE KEY" -> Pem.ecToPkcs8(block.der());
      default -> block.der();
    };
  }

  /** Reads a PKCS#8 key; EC keys are rebuilt from their scalar so that one key has one encoding. */
  private static PrivateKey privateKey(byte[] pkcs8) {
    for (String algorithm : List.of("RSA", "EC", "Ed25519", "Ed448")) {
      try {
        KeyFactory factory = KeyFactory.getInstance(algorithm);
        PrivateKey key = factory.generatePrivate(new PKCS8EncodedKeySpec(pkcs8));
        if (key instanceof ECPrivateKey ec) {
          return factory.generatePrivate(new ECPrivateKeySpec(ec.getS(), ec.getParams()));
        }
        return key;
      } catch (GeneralSecurityException | RuntimeException e) {
        // not this algorithm; try the next
      }
    }
    throw new IllegalArgumentException("private key is not a readable RSA, EC or EdDSA key");
  }

  /** Signs a fixed message with the key and verifies it with the certificate's public key. */
  private static boolean keyMatches(PrivateKey key, X509Certificate cert) {
    String algorithm =
        switch (key.getAlgorithm()) {
          case "RSA" -> "SHA256withRSA";
          case "EC" -> "SHA256withECDSA";
          default -> key.getAlgorithm();
        };
    try {
      byte[] message = "haproxy-confd key check".getBytes(java.nio.charset.StandardCharsets.UTF_8);
      Signature signer = Signature.getInstance(algorithm);
      signer.initSign(key);
      signer.update(message);
      byte[] signature = signer.sign();
      Signature verifier = Signature.getInstance(algorithm);
      verifier.initVerify(cert.getPublicKey());
      verifier.update(message);
      return verifier.verify(signature);
    } catch (GeneralSecurityException | RuntimeException e) {
      return false;
    }
  }

  private static List<String> subjectNames(X509Certificate cert) throws CertificateException {
    TreeSet<String> names = new TreeSet<>();
    var alternatives = cert.getSubjectAlternativeNames();
    if (alternatives != null) {
      for (List<?> entry : alternatives) {
        if (Objects.equals(entry.get(0), 2)) {
          names.add(String.valueOf(entry.get(1)).toLowerCase(Locale.ROOT));
        }
      }
    }
    if (names.isEmpty()) {
      String dn = cert.getSubjectX500Principal().getName(X500Principal.RFC2253);
      for (String part : dn.split(",")) {
        if (part.startsWith("CN=")) {
          names.add(part.substring(3).toLowerCase(Locale.ROOT));
        }
      }
    }
    return new ArrayList<>(names);
  }
}
