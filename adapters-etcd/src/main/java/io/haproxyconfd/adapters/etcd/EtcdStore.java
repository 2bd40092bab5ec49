package io.haproxyconfd.adapters.etcd;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.ClientBuilder;
import io.haproxyconfd.ports.KeyValueSource;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.CertificateFactory;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.TrustManagerFactory;

/** Makes the etcd {@link KeyValueSource}. */
public final class EtcdStore {
  private EtcdStore() {}

  /**
   * Connects lazily: nothing is sent until the first {@link KeyValueSource#read}, which fails
   * within the timeout when etcd cannot be reached or refuses the credentials.
   *
   * @throws IllegalArgumentException when a TLS file is missing or unreadable
   */
  public static KeyValueSource connect(EtcdSettings settings) {
    return new EtcdKeyValueSource(() -> client(settings), settings.timeout());
  }

  /**
   * The same over etcd's v2 HTTP API, where the seed image's and Kontena's keys live. Connects
   * lazily too.
   *
   * @throws IllegalArgumentException when a TLS file is missing or unusable
   */
  public static KeyValueSource connectV2(EtcdSettings settings) {
    return new EtcdV2KeyValueSource(
        settings, settings.usesTls() ? Optional.of(sslContext(settings)) : Optional.empty());
  }

  /**
   * TLS for the v2 API from PEM files: the CA that signed etcd's certificate, and a client
   * certificate with its PKCS#8 key ({@code BEGIN PRIVATE KEY}) when etcd asks for one.
   */
  private static SSLContext sslContext(EtcdSettings settings) {
    try {
      CertificateFactory x509 = CertificateFactory.getInstance("X.509");
      KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
      trust.load(null, null);
      if (settings.caFile().isPresent()) {
        requireReadable(settings.caFile().get());
        try (var in = Files.newInputStream(settings.caFile().get())) {
          int n = 0;
          for (var cert : x509.generateCertificates(in)) {
            trust.setCertificateEntry("ca" + n++, cert);
          }
        }
      }
      TrustManagerFactory tmf =
          TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(settings.caFile().isPresent() ? trust : null);
      KeyManagerFactory kmf = null;
      if (settings.certFile().isPresent()) {
        requireReadable(settings.certFile().get());
        requireReadable(settings.keyFile().orElseThrow());
        java.security.cert.Certificate[] chain;
        try (var in = Files.newInputStream(settings.certFile().get())) {
          chain = x509.generateCertificates(in).toArray(java.security.cert.Certificate[]::new);
        }
        KeyStore keys = KeyStore.getInstance(KeyStore.getDefaultType());
        keys.load(null, null);
        keys.setKeyEntry("client", privateKey(settings.keyFile().get()), new char[0], chain);
        kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(keys, new char[0]);
      }
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(
          kmf == null ? null : kmf.getKeyManagers(), tmf.getTrustManagers(), new SecureRandom());
      return context;
    } catch (IOException | GeneralSecurityException e) {
      throw new IllegalArgumentException("etcd TLS settings are unusable: " + e.getMessage(), e);
    }
  }

  private static PrivateKey privateKey(Path file) throws IOException, GeneralSecurityException {
    String pem = Files.readString(file);
    Matcher m =
        Pattern.compile("-----BEGIN PRIVATE KEY-----([A-Za-z0-9+/=\\s]+)-----END PRIVATE KEY-----")
            .matcher(pem);
    if (!m.find()) {
      throw new GeneralSecurityException(
          file
              + " holds no PKCS#8 key (BEGIN PRIVATE KEY); convert it with 'openssl pkcs8 -topk8"
              + " -nocrypt'");
    }
    byte[] der = Base64.getMimeDecoder().decode(m.group(1));
    for (String algorithm : new String[] {"RSA", "EC", "Ed25519"}) {
      try {
        return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(der));
      } catch (java.security.spec.InvalidKeySpecException notThis) {
        // try the next algorithm
      }
    }
    throw new GeneralSecurityException(file + " holds a key of an algorithm not supported");
  }

  static Client client(EtcdSettings settings) {
    // jetcd retries unavailable calls by itself; it gives up before our own deadline so that the
    // cause (a refused handshake, a refused connection) reaches the caller instead of a timeout.
    boolean tls = settings.usesTls();
    ClientBuilder builder =
        Client.builder()
            .endpoints(
                settings.endpoints().stream()
                    .map(u -> tls ? URI.create("https://" + u.getHost() + ":" + u.getPort()) : u)
                    .toArray(URI[]::new))
            .connectTimeout(settings.timeout())
            .retryChronoUnit(java.time.temporal.ChronoUnit.MILLIS)
            .retryDelay(50)
            .retryMaxDelay(1000)
            .retryMaxDuration(settings.timeout().multipliedBy(6).dividedBy(10))
            .keepaliveTime(java.time.Duration.ofSeconds(10))
            .keepaliveTimeout(java.time.Duration.ofSeconds(5))
            .keepaliveWithoutCalls(true)
            // A watch answer can carry several values of up to 1.5 MiB each (etcd's request
            // limit); reads come in pages that shrink until they fit.
            .maxInboundMessageSize(32 * 1024 * 1024)
            // Without this a call queues silently while the channel fails its handshakes.
            .waitForReady(false);
    settings.user().ifPresent(u -> builder.user(bytes(u)));
    settings.password().ifPresent(p -> builder.password(bytes(p)));
    if (tls) {
      settings.caFile().ifPresent(EtcdStore::requireReadable);
      settings.certFile().ifPresent(EtcdStore::requireReadable);
      settings.keyFile().ifPresent(EtcdStore::requireReadable);
      try {
        builder.sslContext(
            ssl -> {
              settings.caFile().ifPresent(ca -> ssl.trustManager(ca.toFile()));
              if (settings.certFile().isPresent()) {
                ssl.keyManager(
                    settings.certFile().get().toFile(), settings.keyFile().orElseThrow().toFile());
              }
            });
      } catch (SSLException | IllegalArgumentException e) {
        throw new IllegalArgumentException("etcd TLS settings are unusable: " + e.getMessage(), e);
      }
    }
    return builder.build();
  }

  static ByteSequence bytes(String text) {
    return ByteSequence.from(text, StandardCharsets.UTF_8);
  }

  private static void requireReadable(Path file) {
    if (!Files.isReadable(file)) {
      throw new IllegalArgumentException("cannot read " + file);
    }
  }
}
