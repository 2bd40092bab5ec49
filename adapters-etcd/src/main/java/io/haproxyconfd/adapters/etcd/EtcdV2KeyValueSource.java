package io.haproxyconfd.adapters.etcd;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import io.haproxyconfd.domain.KeySnapshot;
import io.haproxyconfd.domain.ProxyId;
import io.haproxyconfd.ports.Backoff;
import io.haproxyconfd.ports.ChangeListener;
import io.haproxyconfd.ports.DaemonThreads;
import io.haproxyconfd.ports.KeyValueSource;
import io.haproxyconfd.ports.StoreException;
import io.haproxyconfd.ports.Subscription;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link KeyValueSource} over etcd's v2 HTTP API, where the seed image's users and Kontena's agents
 * keep their keys ({@code etcdctl set}, {@code curl .../v2/keys/...}).
 *
 * <ul>
 *   <li>A read is one recursive, quorum GET of {@code /v2/keys/haproxy-<id>}; its revision is the
 *       {@code X-Etcd-Index} header. Directory nodes ({@code etcdctl mkdir}) carry no value and are
 *       left out; a missing prefix is an empty snapshot.
 *   <li>A watch is a long poll ({@code wait=true&recursive=true&waitIndex=N}) that resumes from the
 *       index after the last event it saw, so no change between two polls is missed. etcd keeps the
 *       last 1,000 events only: when the index asked for is gone ("event index cleared"), the watch
 *       signals a change (the caller reads everything again) and goes on from etcd's current index.
 *   <li>Every call has a deadline; the endpoints are tried in turn; basic auth and TLS as {@link
 *       EtcdSettings} say. A 401 or 403, or a refused TLS handshake, is permanent.
 * </ul>
 *
 * <p>Threading: {@link #read} from any thread; each watch polls on a daemon thread of its own and
 * calls its listener there.
 */
final class EtcdV2KeyValueSource implements KeyValueSource {
  private static final Logger LOG = LoggerFactory.getLogger(EtcdV2KeyValueSource.class);

  /** How long one long poll waits for an event before it is asked again. */
  static final Duration POLL = Duration.ofSeconds(50);

  private static final Backoff BACKOFF = new Backoff(Duration.ofMillis(50), Duration.ofSeconds(1));

  /** etcd v2's error code for a watch index older than its 1,000-event window. */
  private static final int EVENT_INDEX_CLEARED = 401;

  /** etcd v2's error code for a key that does not exist. */
  private static final int KEY_NOT_FOUND = 100;

  private final EtcdSettings settings;
  private final HttpClient http;
  private final Optional<String> authorization;
  private final AtomicInteger endpoint = new AtomicInteger();
  private final List<Watch> watches = new CopyOnWriteArrayList<>();

  EtcdV2KeyValueSource(EtcdSettings settings, Optional<SSLContext> tls) {
    this.settings = settings;
    HttpClient.Builder builder =
        HttpClient.newBuilder()
            .connectTimeout(settings.timeout())
            .version(HttpClient.Version.HTTP_1_1);
    tls.ifPresent(builder::sslContext);
    this.http = builder.build();
    this.authorization =
        settings
            .user()
            .map(
                u ->
                    "Basic "
                        + Base64.getEncoder()
                            .encodeToString(
                                (u + ":" + settings.password().orElse(""))
                                    .getBytes(StandardCharsets.UTF_8)));
  }

  /** The v2 path of a proxy's keys: {@code /v2/keys/haproxy-<id>}, or its own prefix. */
  static String prefixPath(ProxyId proxy) {
    return "/v2/keys/" + proxy.folder();
  }

  @Override
  public KeySnapshot read(ProxyId proxy) throws StoreException {
    Answer a =
        get(prefixPath(proxy) + "?recursive=true&sorted=true&quorum=true", settings.timeout());
    if (a.status() == 404 && a.errorCode() == KEY_NOT_FOUND) {
      created.remove(prefixPath(proxy));
      return KeySnapshot.empty(a.index());
    }
    if (a.status() != 200) {
      throw StoreException.unavailable(
          "etcd (v2 API) answered "
              + a.status()
              + " reading "
              + prefixPath(proxy)
              + ": "
              + a.body(),
          null);
    }
    SortedMap<String, KeySnapshot.Entry> entries = new TreeMap<>();
    try {
      JsonObject root = JsonParser.parseString(a.body()).getAsJsonObject().getAsJsonObject("node");
      String base = root.get("key").getAsString() + "/";
      collect(root, base, entries);
    } catch (JsonParseException | IllegalStateException | NullPointerException e) {
      throw StoreException.unavailable("etcd (v2 API) sent an answer that is not a key tree", e);
    }
    return new KeySnapshot(a.index(), firstCreated(prefixPath(proxy), entries));
  }

  /**
   * Per prefix, the creation index first seen for each key that has lived since. Each inner map is
   * guarded by its own lock.
   */
  private final Map<String, Map<String, Long>> created = new ConcurrentHashMap<>();

  /**
   * The entries with the creation index each key had when first read. etcd v2's {@code set} (what
   * {@code etcdctl set} and the seed's users send) gives an existing key a new {@code
   * createdIndex}, so a service whose key is set again would look newer than one written after it,
   * and a clash between the two would change its winner. A key gone from a read starts afresh when
   * it is back.
   */
  private SortedMap<String, KeySnapshot.Entry> firstCreated(
      String prefix, SortedMap<String, KeySnapshot.Entry> entries) {
    Map<String, Long> known = created.computeIfAbsent(prefix, p -> new HashMap<>());
    synchronized (known) {
      SortedMap<String, KeySnapshot.Entry> out = new TreeMap<>();
      Map<String, Long> seen = new HashMap<>();
      entries.forEach(
          (key, e) -> {
            long first = Math.min(known.getOrDefault(key, Long.MAX_VALUE), e.createRevision());
            seen.put(key, first);
            out.put(key, new KeySnapshot.Entry(e.value(), first));
          });
      known.clear();
      known.putAll(seen);
      return out;
    }
  }

  /** Every value below {@code node}, by its key relative to {@code base}; directories add none. */
  private static void collect(
      JsonObject node, String base, SortedMap<String, KeySnapshot.Entry> into) {
    if (node.has("dir") && node.get("dir").getAsBoolean()) {
      if (node.has("nodes")) {
        for (JsonElement child : node.getAsJsonArray("nodes")) {
          collect(child.getAsJsonObject(), base, into);
        }
      }
      return;
    }
    String key = node.get("key").getAsString();
    if (key.startsWith(base) && node.has("value")) {
      into.put(
          key.substring(base.length()),
          new KeySnapshot.Entry(
              node.get("value").getAsString(), node.get("createdIndex").getAsLong()));
    }
  }

  @Override
  public Subscription watch(ProxyId proxy, long revision, ChangeListener listener) {
    Watch w = new Watch(proxy, revision + 1, listener);
    watches.add(w);
    w.thread.start();
    return () -> {
      w.close();
      watches.remove(w);
    };
  }

  /** One long-polling watch and its thread. */
  private final class Watch {
    private final ProxyId proxy;
    private final ChangeListener listener;
    private final Thread thread;
    private volatile boolean closed;
    private long next;

    Watch(ProxyId proxy, long from, ChangeListener listener) {
      this.proxy = proxy;
      this.next = from;
      this.listener = listener;
      this.thread = DaemonThreads.create("etcd-v2-watch", this::run);
    }

    private void run() {
      Duration backoff = Duration.ZERO;
      boolean failing = false;
      while (!closed) {
        try {
          Optional<Answer> polled =
              poll(prefixPath(proxy) + "?wait=true&recursive=true&waitIndex=" + next);
          String reason = null;
          if (polled.isPresent()) {
            Answer a = polled.get();
            if (a.status() == 200 && !a.body().isBlank()) {
              JsonObject node =
                  JsonParser.parseString(a.body()).getAsJsonObject().getAsJsonObject("node");
              next = node.get("modifiedIndex").getAsLong() + 1;
              reason = "etcd v2: " + node.get("key").getAsString();
            } else if (a.errorCode() == EVENT_INDEX_CLEARED && a.index() >= next) {
              next = a.index() + 1;
              reason = "etcd v2 events cleared past the watch's index: reading everything";
            } else {
              throw StoreException.unavailable(
                  "watch answered " + a.status() + ": " + a.body(), null);
            }
          } // else a quiet poll: poll() moved 'next' past events outside the prefix
          // Only a usable answer ends a failure: one that fails again must not signal each turn.
          if (failing) {
            failing = false;
            listener.changed("etcd (v2 API) answers again");
          }
          backoff = Duration.ZERO;
          if (reason != null) {
            listener.changed(reason);
          }
        } catch (StoreException | RuntimeException e) {
          if (closed) {
            return;
          }
          if (!failing) {
            LOG.warn("etcd (v2 API) watch failed ({}); retrying", e.getMessage());
            // Say so: the caller reads, and reports the store's state, instead of trusting a watch
            // that is not watching.
            listener.changed("etcd (v2 API) watch failed: " + e.getMessage());
          }
          failing = true;
          backoff = BACKOFF.after(backoff);
          LockSupport.parkNanos(backoff.toNanos()); // back-off between retries
        }
      }
    }

    /**
     * One long poll on the current endpoint, bounded by {@link #POLL}: etcd sends its headers at
     * once and the event (if any) later, so the whole answer is awaited with a deadline and the
     * exchange cancelled after it. Empty when no event came; then {@code next} moves to the index
     * etcd had when the poll began, as every event up to it was outside the prefix.
     */
    private Optional<Answer> poll(String pathAndQuery) throws StoreException {
      URI uri = endpointUri(endpoint.get(), pathAndQuery);
      HttpRequest.Builder request = HttpRequest.newBuilder(uri).GET();
      authorization.ifPresent(a -> request.header("Authorization", a));
      AtomicLong headerIndex = new AtomicLong(-1);
      var future =
          http.sendAsync(
              request.build(),
              info -> {
                headerIndex.set(info.headers().firstValueAsLong("X-Etcd-Index").orElse(-1));
                return HttpResponse.BodySubscribers.ofString(StandardCharsets.UTF_8);
              });
      try {
        HttpResponse<String> r =
            future.get(POLL.plus(settings.timeout()).toMillis(), TimeUnit.MILLISECONDS);
        return Optional.of(answer(r));
      } catch (TimeoutException e) {
        future.cancel(true);
        if (headerIndex.get() < 0) {
          // Not even the headers came: this member does not answer. Try the next one.
          endpoint.set(Math.floorMod(endpoint.get() + 1, settings.endpoints().size()));
          throw StoreException.unavailable(
              "etcd (v2 API) at " + uri.getHost() + ":" + uri.getPort() + " does not answer", e);
        }
        next = Math.max(next, headerIndex.get() + 1);
        return Optional.empty();
      } catch (ExecutionException e) {
        endpoint.set(Math.floorMod(endpoint.get() + 1, settings.endpoints().size()));
        throw classify(uri, e.getCause());
      } catch (InterruptedException e) {
        future.cancel(true);
        Thread.currentThread().interrupt();
        throw StoreException.unavailable("interrupted", e);
      }
    }

    void close() {
      closed = true;
      thread.interrupt();
    }
  }

  /** An HTTP answer with etcd's index and error code (0 when none). */
  private record Answer(int status, long index, int errorCode, String body) {}

  private URI endpointUri(int i, String pathAndQuery) {
    URI base = settings.endpoints().get(i);
    return URI.create(
        (settings.usesTls() ? "https" : base.getScheme())
            + "://"
            + base.getHost()
            + ":"
            + base.getPort()
            + pathAndQuery);
  }

  /** An answer, or a permanent error for refused credentials. */
  private static Answer answer(HttpResponse<String> r) throws StoreException {
    if (r.statusCode() == 401 || r.statusCode() == 403) {
      throw StoreException.refused(
          "etcd (v2 API) refused the request: wrong ETCD_USER/ETCD_PASSWORD, or a user (or,"
              + " without one, the guest role) with no right to read the prefix: "
              + r.body().strip(),
          null);
    }
    long index = r.headers().firstValueAsLong("X-Etcd-Index").orElse(bodyIndex(r.body()));
    return new Answer(r.statusCode(), index, errorCode(r.body()), r.body());
  }

  /** A TLS handshake refused is permanent; anything else may pass. */
  private static StoreException classify(URI uri, Throwable cause) {
    if (cause instanceof StoreException s) {
      return s;
    }
    Throwable t = cause;
    while (t != null) {
      if (t instanceof SSLHandshakeException) {
        return StoreException.refused("etcd TLS handshake failed: " + t.getMessage(), cause);
      }
      t = t.getCause();
    }
    return StoreException.unavailable(
        "etcd (v2 API) at " + uri.getHost() + ":" + uri.getPort() + ": " + cause, cause);
  }

  /** GET on the endpoints in turn, starting with the last one that answered. */
  private Answer get(String pathAndQuery, Duration timeout) throws StoreException {
    List<URI> endpoints = settings.endpoints();
    StoreException last = null;
    for (int tried = 0; tried < endpoints.size(); tried++) {
      int i = Math.floorMod(endpoint.get() + tried, endpoints.size());
      URI uri = endpointUri(i, pathAndQuery);
      HttpRequest.Builder request = HttpRequest.newBuilder(uri).timeout(timeout).GET();
      authorization.ifPresent(a -> request.header("Authorization", a));
      try {
        HttpResponse<String> r =
            http.send(request.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        if (r.statusCode() >= 500) {
          last = StoreException.unavailable(uri + " answered " + r.statusCode(), null);
          continue;
        }
        Answer a = answer(r);
        endpoint.set(i);
        return a;
      } catch (IOException e) {
        last = classify(uri, e);
        if (last.isPermanent()) {
          throw last;
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw StoreException.unavailable("interrupted", e);
      }
    }
    throw last;
  }

  /** The {@code index} field of an error answer, or 0. */
  private static long bodyIndex(String body) {
    try {
      JsonObject o = JsonParser.parseString(body).getAsJsonObject();
      return o.has("index") ? o.get("index").getAsLong() : 0;
    } catch (RuntimeException e) {
      return 0;
    }
  }

  private static int errorCode(String body) {
    if (!body.startsWith("{") || !body.contains("\"errorCode\"")) {
      return 0;
    }
    try {
      return JsonParser.parseString(body).getAsJsonObject().get("errorCode").getAsInt();
    } catch (JsonParseException | IllegalStateException | NullPointerException e) {
      return 0;
    }
  }

  @Override
  public void close() {
    watches.forEach(Watch::close);
    watches.clear();
  }
}
