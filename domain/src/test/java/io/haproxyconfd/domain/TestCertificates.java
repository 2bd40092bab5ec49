package io.haproxyconfd.domain;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Certificate bundles for tests, made by the openssl command line at test time (nothing secret is
 * checked in). Each kind is made once per JVM.
 */
public final class TestCertificates {
  private static final Map<String, String> CACHE = new ConcurrentHashMap<>();

  private TestCertificates() {}

  /** A self-signed RSA certificate for the names (first is the CN), key in PKCS#8. */
  public static String rsa(String... names) {
    return CACHE.computeIfAbsent("rsa" + String.join(",", names), k -> make("rsa", names));
  }

  /** A self-signed EC P-256 certificate for the names, key in PKCS#8. */
  public static String ec(String... names) {
    return CACHE.computeIfAbsent("ec" + String.join(",", names), k -> make("ec", names));
  }

  /** A leaf signed by a CA of its own, each as a PEM block, and the leaf's key (PKCS#8). */
  public record Chain(String leaf, String ca, String key) {}

  private static final Map<String, Chain> CHAINS = new ConcurrentHashMap<>();

  /** A certificate for {@code name} issued by a throw-away CA. */
  public static Chain chain(String name) {
    return CHAINS.computeIfAbsent(
        name,
        n -> {
          try {
            Path dir = Files.createTempDirectory("chain");
            String d = dir.toString();
            run(
                List.of(
                    "openssl",
                    "req",
                    "-x509",
                    "-nodes",
                    "-days",
                    "30",
                    "-newkey",
                    "rsa:2048",
                    "-subj",
                    "/CN=Test CA " + n,
                    "-keyout",
                    d + "/ca.key",
                    "-out",
                    d + "/ca.pem",
                    "-addext",
                    "basicConstraints=critical,CA:TRUE"),
                null);
            run(
                List.of(
                    "openssl",
                    "req",
                    "-new",
                    "-nodes",
                    "-newkey",
                    "rsa:2048",
                    "-subj",
                    "/CN=" + n,
                    "-keyout",
                    d + "/leaf.key",
                    "-out",
                    d + "/leaf.csr"),
                null);
            Files.writeString(dir.resolve("ext"), "subjectAltName=DNS:" + n + "\n");
            run(
                List.of(
                    "openssl",
                    "x509",
                    "-req",
                    "-in",
                    d + "/leaf.csr",
                    "-CA",
                    d + "/ca.pem",
                    "-CAkey",
                    d + "/ca.key",
                    "-CAcreateserial",
                    "-days",
                    "30",
                    "-extfile",
                    d + "/ext",
                    "-out",
                    d + "/leaf.pem"),
                null);
            Chain chain =
                new Chain(
                    Files.readString(dir.resolve("leaf.pem")),
                    Files.readString(dir.resolve("ca.pem")),
                    Files.readString(dir.resolve("leaf.key")));
            try (var files = Files.list(dir)) {
              for (Path f : files.toList()) {
                Files.delete(f);
              }
            }
            Files.delete(dir);
            return chain;
          } catch (IOException e) {
            throw new IllegalStateException(e);
          }
        });
  }

  /**
   * A self-signed EC certificate whose key was made by {@code openssl ecparam -genkey}: an {@code
   * EC PARAMETERS} block, then the SEC1 key.
   */
  public static String ecWithParameters(String name) {
    return CACHE.computeIfAbsent(
        "ecparam" + name,
        k -> {
          String key = openssl(null, "ecparam", "-name", "prime256v1", "-genkey");
          try {
            Path file = Files.createTempFile("eckey", ".pem");
            Files.writeString(file, key);
            String cert =
                openssl(
                    null,
                    "req",
                    "-x509",
                    "-key",
                    file.toString(),
                    "-days",
                    "30",
                    "-subj",
                    "/CN=" + name,
                    "-addext",
                    "subjectAltName=DNS:" + name);
            Files.delete(file);
            return cert + key;
          } catch (IOException e) {
            throw new IllegalStateException(e);
          }
        });
  }

  /** RFC 7919's ffdhe2048 group as a {@code DH PARAMETERS} block. */
  public static String dhParameters() {
    return CACHE.computeIfAbsent(
        "dh",
        k ->
            openssl(
                null, "genpkey", "-genparam", "-algorithm", "DH", "-pkeyopt", "group:ffdhe2048"));
  }

  /** The same certificate with its key in the legacy PKCS#1 / SEC1 encoding. */
  public static String traditional(String bundle) {
    int keyAt = bundle.indexOf("-----BEGIN PRIVATE KEY-----");
    String key = openssl(bundle.substring(keyAt), "pkey", "-traditional");
    return bundle.substring(0, keyAt) + key;
  }

  /** The certificate of one bundle with the key of another. */
  public static String mismatched(String certBundle, String keyBundle) {
    return certificatePart(certBundle) + keyPart(keyBundle);
  }

  public static String certificatePart(String bundle) {
    return bundle.substring(0, bundle.indexOf("-----BEGIN PRIVATE KEY-----"));
  }

  public static String keyPart(String bundle) {
    return bundle.substring(bundle.indexOf("-----BEGIN PRIVATE KEY-----"));
  }

  private static String make(String type, String... names) {
    try {
      Path dir = Files.createTempDirectory("certs");
      Path key = dir.resolve("key.pem");
      Path cert = dir.resolve("cert.pem");
      List<String> cmd =
          new ArrayList<>(
              List.of(
                  "openssl",
                  "req",
                  "-x509",
                  "-nodes",
                  "-days",
                  "30",
                  "-subj",
                  "/CN=" + names[0],
                  "-keyout",
                  key.toString(),
                  "-out",
                  cert.toString(),
                  "-addext",
                  "subjectAltName=DNS:" + String.join(",DNS:", names)));
      if (type.equals("rsa")) {
        cmd.addAll(List.of("-newkey", "rsa:2048"));
      } else {
        cmd.addAll(List.of("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"));
      }
      run(cmd, null);
      String bundle = Files.readString(cert) + Files.readString(key);
      Files.delete(key);
      Files.delete(cert);
      Files.delete(dir);
      return bundle;
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String openssl(String input, String... args) {
    List<String> cmd = new ArrayList<>(List.of("openssl"));
    cmd.addAll(List.of(args));
    return run(cmd, input);
  }

  private static String run(List<String> cmd, String input) {
    try {
      Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
      if (input != null) {
        p.getOutputStream().write(input.getBytes(StandardCharsets.US_ASCII));
      }
      p.getOutputStream().close();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
      if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
        throw new IllegalStateException("openssl failed: " + cmd);
      }
      return out;
    } catch (IOException e) {
      throw new IllegalStateException("openssl is needed for certificate tests", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
