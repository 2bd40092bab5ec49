package io.haproxyconfd.adapters.haproxy;

import io.haproxyconfd.domain.Backend;
import io.haproxyconfd.domain.Balance;
import io.haproxyconfd.domain.BasicAuth;
import io.haproxyconfd.domain.Certificate;
import io.haproxyconfd.domain.HostPattern;
import io.haproxyconfd.domain.HttpService;
import io.haproxyconfd.domain.PathPrefix;
import io.haproxyconfd.domain.PathRegex;
import io.haproxyconfd.domain.PathRule;
import io.haproxyconfd.domain.ProxyConfig;
import io.haproxyconfd.domain.Route;
import io.haproxyconfd.domain.ServiceName;
import io.haproxyconfd.domain.TcpService;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * Everything the template needs, decided here: names, order, escaping, slot contents, map entries.
 * The template only lays it out. Every string in a plan comes from a validated domain value or from
 * this class, so none can hold whitespace, quotes or '#'.
 *
 * <p>Public only because FreeMarker reads public types; nothing outside this package uses it.
 */
public record Plan(
    long revision,
    String adminSocket,
    String pidFile,
    long hardStopAfterMs,
    String bind,
    int httpPort,
    boolean tls,
    int httpsPort,
    String crtList,
    List<Lookup> lookups,
    String sparesMap,
    String stripMap,
    List<HttpBackend> backends,
    List<TcpListen> tcp,
    List<Userlist> userlists,
    int statsPort,
    String statsPassword,
    Map<String, List<String>> maps,
    Map<String, Certificate> certificates,
    Serving serving) {

  /**
   * Health checks, logs and listener options, as the template writes them.
   *
   * @param checkIntervalMs how often each server is checked
   * @param accessLog {@code off}, {@code text} or {@code json}
   * @param bindOptions words after every traffic listener's address ({@code accept-proxy})
   * @param alpn the TLS listener's ALPN list, empty for none
   * @param cookieKey the secret dynamic sticky cookies are derived from
   * @param healthUri the path HAProxy answers itself ({@code monitor-uri}), empty for none
   */
  public record Serving(
      long checkIntervalMs,
      String accessLog,
      String bindOptions,
      String alpn,
      String cookieKey,
      String healthUri) {}

  /**
   * One step of the routing chain: {@code http-request set-var(txn.be)
   * <fetch>,<converter>(<file>)}; every step after the first runs only while no backend is found.
   */
  public record Lookup(String fetch, String converter, String file, boolean onlyIfUnmatched) {}

  /**
   * One server slot.
   *
   * @param enabled filled: serving; otherwise a placeholder in maintenance, for the runtime API
   * @param check whether HAProxy health-checks it (always when filled; see {@link #build})
   */
  public record Server(String name, String address, int port, boolean enabled, boolean check) {}

  public record HttpBackend(
      String name,
      String balance,
      boolean forceHttps,
      String userlist,
      String cookie,
      String checkUri,
      int checkPort,
      List<String> customLines,
      List<Server> servers) {

    /**
     * Always empty: a prefix taken off is the frontend's work now ({@link #STRIP_MAP}). Kept so
     * that a {@code backend.ftl} of an operator's own that lists {@code b.rewrites} still renders.
     */
    public List<String> rewrites() {
      return List.of();
    }
  }

  public record TcpListen(String name, int port, String balance, List<Server> servers) {}

  public record Userlist(String name, List<User> users) {}

  /** A user: a crypt(3) hash, or a plain password when {@code plain}. */
  public record User(String name, String hash, boolean plain) {}

  /** The map files, in the order requests are tried against them. */
  enum MapFile {
    HOST_PATH("host_path.map", "var(txn.hp)", "map_beg"),
    HOST_PATH_REGEX("host_path_reg.map", "var(txn.hpq)", "map_reg"),
    HOST("host.map", "var(txn.host)", "map"),
    WILDCARD("wildcard.map", "var(txn.host)", "map_end"),
    PATH("path.map", "path", "map_beg"),
    PATH_REGEX("path_reg.map", "pathq", "map_reg");

    final String file;
    final String fetch;
    final String converter;

    MapFile(String file, String fetch, String converter) {
      this.file = file;
      this.fetch = fetch;
      this.converter = converter;
    }
  }

  static String httpBackendName(HttpService s) {
    return "http-" + s.name();
  }

  static String tcpListenName(TcpService s) {
    return "tcp-" + s.name();
  }

  /**
   * The service a section of the rendered config belongs to, from its header line ({@code backend
   * http-web}, {@code listen tcp-db}, {@code userlist users-web}); empty for the shared sections.
   */
  static Optional<ServiceName> serviceOfSection(String header) {
    String[] words = header.trim().split("\\s+");
    if (words.length < 2) {
      return Optional.empty();
    }
    for (String prefix : List.of("http-", "tcp-", "users-")) {
      if (words[1].startsWith(prefix)) {
        try {
          return Optional.of(new ServiceName(words[1].substring(prefix.length())));
        } catch (IllegalArgumentException notOurs) {
          return Optional.empty();
        }
      }
    }
    return Optional.empty();
  }

  /** Which map file a route is looked up in. */
  static MapFile fileOf(Route route) {
    Optional<HostPattern> host = route.host();
    Optional<PathRule> path = route.path();
    if (host.isPresent() && path.isPresent()) {
      return !host.get().isWildcard() && path.get() instanceof PathPrefix
          ? MapFile.HOST_PATH
          : MapFile.HOST_PATH_REGEX;
    }
    if (host.isPresent()) {
      return host.get().isWildcard() ? MapFile.WILDCARD : MapFile.HOST;
    }
    return path.orElseThrow() instanceof PathPrefix ? MapFile.PATH : MapFile.PATH_REGEX;
  }

  /** Which map file, and which key, a route is looked up by. */
  static Map.Entry<MapFile, String> mapEntry(Route route) {
    MapFile file = fileOf(route);
    HostPattern h = route.host().orElse(null);
    PathRule p = route.path().orElse(null);
    String key =
        switch (file) {
          case HOST_PATH -> h.value() + p.value();
          case HOST_PATH_REGEX -> "^" + hostRegex(h) + pathRegexPart(p);
          case HOST -> h.value();
          case WILDCARD -> h.suffix();
          case PATH -> p.value();
          case PATH_REGEX -> "(?i)" + p.value();
        };
    return Map.entry(file, key);
  }

  /**
   * A host as a regex over {@code host+path}: each dot a class of its own ({@code [.]}); a wildcard
   * is one or more labels. No backslash: HAProxy's command line would take it for an escape, and a
   * route of a host and a path would need a reload to change.
   */
  private static String hostRegex(HostPattern h) {
    String exact = h.suffix().replace(".", "[.]");
    return h.isWildcard() ? "[^/]+" + exact : exact;
  }

  /**
   * The path part of a host+path regex: the prefix literally, or the regex after the host. A {@code
   * url_reg} matches as the Kontena fork matched it ({@code url_reg -i}): ignoring case, against
   * the path with its query string.
   */
  private static String pathRegexPart(PathRule p) {
    if (p instanceof PathPrefix prefix) {
      return literalRegex(prefix.value());
    }
    String regex = ((PathRegex) p).value();
    return "(?i:" + (regex.startsWith("^") ? regex.substring(1) : "(?=/).*" + regex) + ")";
  }

  /**
   * A literal as a regex, for map keys, that HAProxy's command line carries as it is: each special
   * character in a class of its own ({@code [.]}) rather than behind a backslash. A backslash or a
   * caret, which a class cannot hold plainly, is escaped; its map line then changes by a reload.
   */
  static String literalRegex(String literal) {
    StringBuilder out = new StringBuilder();
    for (char c : literal.toCharArray()) {
      if (c == '\\' || c == '^') {
        out.append('\\').append(c);
      } else if (".+*?()[]{}|$".indexOf(c) >= 0) {
        out.append('[').append(c).append(']');
      } else {
        out.append(c);
      }
    }
    return out.toString();
  }

  /**
   * The map of which service each spare backend serves ({@code spare-3 http-web}): HAProxy holds it
   * for the operator ({@code show map}), and it is not used for routing.
   */
  static final String SPARES_MAP = "spares.map";

  /**
   * The map of the path prefixes backends take off ({@code url_beg} without {@code keep_path}),
   * each line {@code <backend><prefix> <backend><prefix>}: the frontend looks up the backend's name
   * and the path in it, longest prefix first, and cuts off what it finds. A map, not rules in the
   * backend, so that a prefix changes at runtime like the route it belongs to.
   */
  static final String STRIP_MAP = "strip.map";

  /**
   * Map file contents for a config: one {@code key backend} line per route, most specific first,
   * the {@link #SPARES_MAP} and the {@link #STRIP_MAP}. A service served from a spare is routed to
   * the spare.
   */
  static Map<String, List<String>> mapContents(ProxyConfig config, Slots slots) {
    return mapLines(config.routes(), slots, config.http());
  }

  /**
   * The lines of the maps named in {@code files} alone, as {@link #mapContents(ProxyConfig, Slots)}
   * has them: a map replaced whole at runtime does not sort the routes of every other map (at
   * 10,000 hosts, 20 ms for a wildcard map of 20 lines).
   */
  static Map<String, List<String>> mapContents(ProxyConfig config, Slots slots, Set<String> files) {
    List<Route> routes = new ArrayList<>();
    for (HttpService s : config.http()) {
      for (Route r : s.routes()) {
        if (files.contains(fileOf(r).file)) {
          routes.add(r);
        }
      }
    }
    routes.sort(Route.MOST_SPECIFIC_FIRST);
    Map<String, List<String>> maps =
        mapLines(
            routes,
            slots,
            files.contains(SPARES_MAP) || files.contains(STRIP_MAP) ? config.http() : List.of());
    maps.keySet().retainAll(files);
    return maps;
  }

  /** Map file contents for a config that no spare serves. */
  static Map<String, List<String>> mapContents(ProxyConfig config) {
    return mapContents(config, Slots.empty());
  }

  /** The map lines of these services' routes, in no particular order: to compare, not to write. */
  static Map<String, List<String>> mapContents(List<HttpService> services, Slots slots) {
    List<Route> routes = new ArrayList<>();
    services.forEach(s -> routes.addAll(s.routes()));
    return mapLines(routes, slots, services);
  }

  private static Map<String, List<String>> mapLines(
      List<Route> routes, Slots slots, List<HttpService> services) {
    Map<String, List<String>> maps = new LinkedHashMap<>();
    for (MapFile m : MapFile.values()) {
      maps.put(m.file, new ArrayList<>());
    }
    for (Route r : routes) {
      var entry = mapEntry(r);
      maps.get(entry.getKey().file)
          .add(entry.getValue() + " " + slots.backendOf(r.service(), "http-" + r.service()));
    }
    List<String> spares = new ArrayList<>();
    if (!slots.hosted().isEmpty()) {
      for (HttpService s : services) {
        String spare = slots.backendOf(s.name(), "");
        if (!spare.isEmpty()) {
          spares.add(spare + " " + httpBackendName(s));
        }
      }
    }
    maps.put(SPARES_MAP, spares);
    List<String> strip = new ArrayList<>();
    for (HttpService s : services) {
      for (String key : stripKeys(s, slots.backendOf(s.name(), httpBackendName(s)))) {
        strip.add(key + " " + key);
      }
    }
    maps.put(STRIP_MAP, strip);
    return maps;
  }

  /**
   * Whether a service can be served from a spare backend: its backend would be laid out as a spare
   * is (a service with default settings; its routes and the prefixes it strips are map lines), and
   * it needs nothing else a reload would bring (a certificate, a user list).
   */
  static boolean fitsSpare(HttpService s) {
    return s.policy().certificate().isEmpty()
        && s.policy().basicAuth().isEmpty()
        && httpBackend("", s.policy(), "", List.of()).equals(SPARE_LAYOUT);
  }

  private static final HttpBackend SPARE_LAYOUT =
      httpBackend("", HttpService.Policy.DEFAULT, "", List.of());

  private static HttpBackend httpBackend(
      String name, HttpService.Policy p, String userlist, List<Server> servers) {
    return new HttpBackend(
        name,
        p.balance().keyword(),
        p.forceHttps(),
        userlist,
        p.cookie().map(c -> c.directive()).orElse(""),
        p.healthCheck().map(h -> h.uri()).orElse(""),
        p.healthCheck().flatMap(h -> h.port()).map(port -> port.value()).orElse(0),
        p.customSettings().map(c -> c.lines()).orElse(List.of()),
        servers);
  }

  /**
   * Whether empty slots can be declared with {@code check}: HAProxy reserves a file descriptor for
   * every server declared so, checked or not, and refuses to start when they exceed the open-files
   * limit it inherits (a check with {@code haproxy -c} does not notice). Within half the limit, the
   * other half is left for connections.
   */
  static boolean canCheckEmptySlots(Slots slots, int listeners, long openFilesLimit) {
    return slots.total() + listeners <= openFilesLimit / 2;
  }

  /**
   * The keys of a service's lines in the {@link #STRIP_MAP}: its backend's name and each prefix it
   * takes off, without a trailing slash (the frontend takes off one slash after the prefix, if
   * there is one). A backend's name holds no '/' and a path no '|', so that a key cannot reach into
   * another backend's requests and the frontend's cut ('|' between key and path) is unambiguous.
   */
  static List<String> stripKeys(HttpService s, String backend) {
    List<String> keys = new ArrayList<>();
    for (String prefix : s.strippedPrefixes()) {
      keys.add(backend + stripTrailingSlash(prefix));
    }
    return keys;
  }

  /**
   * The servers of the backends and TCP listeners of the {@code named} services only, by the name
   * of the HAProxy backend that serves them now.
   */
  static Map<String, List<Backend>> servers(
      ProxyConfig config, Set<ServiceName> named, Slots slots) {
    Map<String, List<Backend>> servers = new TreeMap<>();
    for (ServiceName name : named) {
      config
          .httpService(name)
          .ifPresent(s -> servers.put(slots.backendOf(name, httpBackendName(s)), s.backends()));
      config.tcpService(name).ifPresent(s -> servers.put(tcpListenName(s), s.backends()));
    }
    return servers;
  }

  /**
   * The backends and TCP listeners HAProxy can add servers to at runtime: {@code add server} needs
   * a dynamic balance, and takes neither a dynamic cookie nor whatever the operator's own lines
   * would give the servers of the config.
   */
  static Set<String> growable(ProxyConfig config) {
    Set<String> names = new HashSet<>();
    for (HttpService s : config.http()) {
      if (growable(s)) {
        names.add(httpBackendName(s));
      }
    }
    for (TcpService s : config.tcp()) {
      if (growable(s)) {
        names.add(tcpListenName(s));
      }
    }
    return names;
  }

  static boolean growable(HttpService s) {
    return dynamic(s.policy().balance())
        && s.policy().cookie().isEmpty()
        && s.policy().customSettings().isEmpty();
  }

  static boolean growable(TcpService s) {
    return dynamic(s.balance());
  }

  /** Balances whose server set HAProxy can change at runtime; the others hash over a fixed map. */
  private static boolean dynamic(Balance b) {
    return switch (b) {
      case ROUNDROBIN, LEASTCONN, FIRST, RANDOM -> true;
      case STATIC_RR, SOURCE, URI -> false;
    };
  }

  /**
   * What {@code add server} is told beside the address, for each backend and TCP listener of the
   * {@code named} services: a server added at runtime takes nothing from {@code default-server}, so
   * its check is spelled out as the config's is.
   */
  static Map<String, String> addOptions(
      ProxyConfig config, Set<ServiceName> named, Slots slots, long checkIntervalMs) {
    String check = " check inter " + checkIntervalMs + " fall 3 rise 2";
    Map<String, String> options = new TreeMap<>();
    for (ServiceName name : named) {
      config
          .httpService(name)
          .ifPresent(
              s ->
                  options.put(
                      slots.backendOf(name, httpBackendName(s)),
                      check
                          + s.policy()
                              .healthCheck()
                              .flatMap(h -> h.port())
                              .map(port -> " port " + port.value())
                              .orElse("")));
      config.tcpService(name).ifPresent(s -> options.put(tcpListenName(s), check));
    }
    return options;
  }

  /** The servers of each backend ({@code http-<name>}) and TCP listener ({@code tcp-<name>}). */
  static Map<String, List<Backend>> servers(ProxyConfig config) {
    Map<String, List<Backend>> servers = new TreeMap<>();
    for (HttpService s : config.http()) {
      servers.put(httpBackendName(s), s.backends());
    }
    for (TcpService s : config.tcp()) {
      servers.put(tcpListenName(s), s.backends());
    }
    return servers;
  }

  static Plan build(
      ProxyConfig config,
      Slots slots,
      HaproxySettings settings,
      String cookieKey,
      long openFilesLimit,
      Path generationDir) {
    boolean checkEmpty = canCheckEmptySlots(slots, config.tcp().size() + 3, openFilesLimit);
    Path run = settings.stateDir().resolve("run");
    List<Lookup> lookups = new ArrayList<>();
    for (MapFile m : MapFile.values()) {
      lookups.add(
          new Lookup(
              m.fetch,
              m.converter,
              generationDir.resolve("maps").resolve(m.file).toString(),
              !lookups.isEmpty()));
    }
    Map<String, Certificate> certs = new TreeMap<>();
    List<HttpBackend> backends = new ArrayList<>();
    List<Userlist> userlists = new ArrayList<>();
    for (HttpService s : config.http()) {
      String name = slots.backendOf(s.name(), httpBackendName(s));
      s.policy().certificate().ifPresent(c -> certs.put(c.fingerprint() + ".pem", c));
      String userlist = "";
      if (s.policy().basicAuth().isPresent()) {
        userlist = "users-" + s.name();
        List<User> users = new ArrayList<>();
        for (BasicAuth.User u : s.policy().basicAuth().get().users()) {
          users.add(new User(u.name(), u.passwordHash(), u.plain()));
        }
        userlists.add(new Userlist(userlist, users));
      }
      backends.add(httpBackend(name, s.policy(), userlist, servers(slots.of(name), checkEmpty)));
    }
    // The free spares last, laid out as a service with default settings would be.
    if (!slots.spares().isEmpty()) {
      Set<String> held = new HashSet<>(slots.hosted().values());
      for (String spare : slots.spares()) {
        if (!held.contains(spare)) {
          backends.add(
              httpBackend(
                  spare, HttpService.Policy.DEFAULT, "", servers(slots.of(spare), checkEmpty)));
        }
      }
    }
    List<TcpListen> tcp = new ArrayList<>();
    for (TcpService s : config.tcp()) {
      String name = tcpListenName(s);
      tcp.add(
          new TcpListen(
              name,
              s.externalPort().value(),
              s.balance().keyword(),
              servers(slots.of(name), checkEmpty)));
    }
    return new Plan(
        config.revision(),
        run.resolve("admin.sock").toString(),
        run.resolve("haproxy.pid").toString(),
        settings.hardStopAfter().toMillis(),
        settings.bindHost(),
        settings.httpPort(),
        !certs.isEmpty(),
        settings.httpsPort(),
        generationDir.resolve("certs").resolve("crt-list.txt").toString(),
        lookups,
        generationDir.resolve("maps").resolve(SPARES_MAP).toString(),
        generationDir.resolve("maps").resolve(STRIP_MAP).toString(),
        backends,
        tcp,
        userlists,
        settings.statsPort(),
        settings.statsPassword().orElse(""),
        mapContents(config, slots),
        certs,
        serving(settings.serving(), cookieKey));
  }

  private static Serving serving(HaproxySettings.Serving s, String cookieKey) {
    return new Serving(
        s.checkInterval().toMillis(),
        s.accessLog().name().toLowerCase(java.util.Locale.ROOT),
        s.acceptProxy() ? " accept-proxy" : "",
        s.http2() ? "h2,http/1.1" : "",
        cookieKey,
        s.healthUri().orElse(""));
  }

  private static String stripTrailingSlash(String prefix) {
    return prefix.length() > 1 && prefix.endsWith("/")
        ? prefix.substring(0, prefix.length() - 1)
        : prefix;
  }

  /** Filled slots serve; empty slots are disabled placeholders the runtime API can fill. */
  private static List<Server> servers(List<Optional<Backend>> slots, boolean checkEmpty) {
    List<Server> servers = new ArrayList<>(slots.size());
    for (int i = 0; i < slots.size(); i++) {
      Optional<Backend> slot = slots.get(i);
      if (slot.isPresent()) {
        Backend b = slot.get();
        servers.add(new Server(slotName(i), b.hostForUrl(), b.port().value(), true, true));
      } else {
        servers.add(emptySlot(i, checkEmpty));
      }
    }
    return servers;
  }

  /** Slot names and empty slots, made once: a write of 11,000 slots makes none of them again. */
  private static final int KEPT_SLOTS = 64;

  private static final String[] SLOT_NAMES = new String[KEPT_SLOTS];
  private static final Server[][] EMPTY_SLOTS = new Server[2][KEPT_SLOTS];

  static {
    for (int i = 0; i < KEPT_SLOTS; i++) {
      SLOT_NAMES[i] = "s" + (i + 1);
      EMPTY_SLOTS[0][i] = new Server(SLOT_NAMES[i], "127.0.0.1", 1, false, false);
      EMPTY_SLOTS[1][i] = new Server(SLOT_NAMES[i], "127.0.0.1", 1, false, true);
    }
  }

  private static String slotName(int i) {
    return i < KEPT_SLOTS ? SLOT_NAMES[i] : "s" + (i + 1);
  }

  private static Server emptySlot(int i, boolean check) {
    return i < KEPT_SLOTS
        ? EMPTY_SLOTS[check ? 1 : 0][i]
        : new Server(slotName(i), "127.0.0.1", 1, false, check);
  }
}
