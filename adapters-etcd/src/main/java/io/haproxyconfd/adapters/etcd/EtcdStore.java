package io.haproxyconfd.adapters.etcd;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.ClientBuilder;
import io.haproxyconfd.ports.KeyValueSource;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.net.ssl.SSLException;

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
