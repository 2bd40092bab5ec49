package io.haproxyconfd.domain;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Function;

/**
 * Turns the keys of one proxy into its desired {@link ProxyConfig}, following the key layout users
 * rely on (the README's "Keys" section). A service with a missing or bad value is left out with a
 * {@link Problem}; every other service goes on. The same snapshot always gives the same result.
 */
public final class ConfigParser {
  private static final String UPSTREAMS = "upstreams/";

  /**
   * The seed image's cert script's marker at the prefix root ({@code certs}, {@code certs/...}).
   */
  private static final String SEED_CERTS = "certs";

  private ConfigParser() {}

  public static ParseResult parse(KeySnapshot snapshot, ParseOptions options) {
    return parse(snapshot, options, LastGood.NONE);
  }

  /**
   * Parses a snapshot; a service whose keys are bad now but that {@code lastGood} holds keeps the
   * version its last good keys give, with its problems reported as {@link
   * Problem.Effect#LAST_GOOD_KEPT}.
   */
  public static ParseResult parse(KeySnapshot snapshot, ParseOptions options, LastGood lastGood) {
    return parse(snapshot, options, lastGood, new Memo());
  }

  /**
   * What parsing each service gave, kept from one parse to the next: a service whose keys, last
   * good keys and options are those of the last parse gives what it gave then, so a parse after a
   * change of a few keys parses only their services, and checks them for clashes only against the
   * services that claim the same routes or ports. The result is the one a parse without a memo
   * gives (ConfigParserMemoTest checks it against random changes). Not thread-safe: one per loop.
   */
  public static final class Memo {
    private final ParseState state = new ParseState();

    /** Parses a whole snapshot, redoing the services whose keys differ from the last parse's. */
    public ParseResult parse(KeySnapshot snapshot, ParseOptions options, LastGood lastGood) {
      return state.parse(snapshot, options, lastGood);
    }

    /**
     * Parses the keys of the last parse with {@code changes} made to them.
     *
     * @throws IllegalStateException when the changes do not start at the revision parsed last
     */
    public ParseResult parse(KeyChanges changes, ParseOptions options, LastGood lastGood) {
      return state.parse(changes, options, lastGood);
    }

    /** The revision of the keys parsed last. */
    public long revision() {
      return state.revision();
    }

    /** Services the last parse took from the memo, and services it parsed. */
    public String lastParse() {
      return state.lastParse();
    }
  }

  /** What parsing one service's keys gave, and until when it holds (a certificate's expiry). */
  record Built<S>(
      SortedMap<String, KeySnapshot.Entry> attrs,
      Optional<SortedMap<String, KeySnapshot.Entry>> earlier,
      Optional<Candidate<S>> candidate,
      List<Problem> problems,
      Set<ServiceName> leftOut,
      Optional<SortedMap<String, KeySnapshot.Entry>> good,
      java.time.Instant at,
      java.time.Instant until) {}

  /** As {@link #parse(KeySnapshot, ParseOptions, LastGood)}, parsing again only what changed. */
  public static ParseResult parse(
      KeySnapshot snapshot, ParseOptions options, LastGood lastGood, Memo memo) {
    return memo.parse(snapshot, options, lastGood);
  }

  /**
   * A snapshot's keys sorted into services (each service's keys relative to its folder, in maps
   * that never change once made), and a problem for each key outside any service. Kept by the
   * {@link Memo}: the next snapshot is compared key by key, and only the services with a changed
   * key get a new map, so unchanged services keep the very map they had.
   */
  static final class Grouping {
    private final TreeMap<String, SortedMap<String, KeySnapshot.Entry>> http = new TreeMap<>();
    private final TreeMap<String, SortedMap<String, KeySnapshot.Entry>> tcp = new TreeMap<>();
    private final TreeMap<String, Problem> others = new TreeMap<>();
    private SortedMap<String, KeySnapshot.Entry> entries = Collections.emptySortedMap();

    /** Whether {@link #entries} is this grouping's own map, which changes apply to in place. */
    private boolean own;

    /** Brings the grouping from the last snapshot's keys to {@code next}; the folders changed. */
    Set<String> update(SortedMap<String, KeySnapshot.Entry> next) {
      Set<String> dirty = new TreeSet<>();
      if (next == entries) {
        return dirty;
      }
      Iterator<Map.Entry<String, KeySnapshot.Entry>> was = entries.entrySet().iterator();
      Iterator<Map.Entry<String, KeySnapshot.Entry>> is = next.entrySet().iterator();
      Map.Entry<String, KeySnapshot.Entry> a = was.hasNext() ? was.next() : null;
      Map.Entry<String, KeySnapshot.Entry> b = is.hasNext() ? is.next() : null;
      while (a != null || b != null) {
        int c = a == null ? 1 : b == null ? -1 : a.getKey().compareTo(b.getKey());
        if (c < 0) {
          changed(a.getKey(), null, dirty);
          a = was.hasNext() ? was.next() : null;
        } else if (c > 0) {
          changed(b.getKey(), b.getValue(), dirty);
          b = is.hasNext() ? is.next() : null;
        } else {
          if (!a.getValue().equals(b.getValue())) {
            changed(b.getKey(), b.getValue(), dirty);
          }
          a = was.hasNext() ? was.next() : null;
          b = is.hasNext() ? is.next() : null;
        }
      }
      entries = next;
      own = false;
      for (String folder : dirty) {
        regroup(folder);
      }
      return dirty;
    }

    /** Makes {@code changes} (an empty value: the key went) to the keys; the folders changed. */
    Set<String> apply(SortedMap<String, Optional<KeySnapshot.Entry>> changes) {
      if (!own) {
        entries = new TreeMap<>(entries);
        own = true;
      }
      Set<String> dirty = new TreeSet<>();
      changes.forEach(
          (key, entry) -> {
            if (entry.isPresent()) {
              entries.put(key, entry.get());
            } else {
              entries.remove(key);
            }
            changed(key, entry.orElse(null), dirty);
          });
      for (String folder : dirty) {
        regroup(folder);
      }
      return dirty;
    }

    /** Every service folder ({@code services/web}). */
    Set<String> folders() {
      Set<String> all = new HashSet<>();
      http.keySet().forEach(n -> all.add(KeyLayout.HTTP + "/" + n));
      tcp.keySet().forEach(n -> all.add(KeyLayout.TCP + "/" + n));
      return all;
    }

    /** One folder's keys, relative to it. */
    Optional<SortedMap<String, KeySnapshot.Entry>> attrs(String folder) {
      String[] parts = folder.split("/", 2);
      return Optional.ofNullable((parts[0].equals(KeyLayout.HTTP) ? http : tcp).get(parts[1]));
    }

    /** The problems of keys outside any service. */
    java.util.Collection<Problem> others() {
      return others.values();
    }

    /**
     * A key that came, changed or went ({@code entry} null): its service is marked for regrouping,
     * or its own problem is made again.
     */
    private void changed(String key, KeySnapshot.Entry entry, Set<String> dirty) {
      String[] parts = key.split("/", 3);
      if (isAttribute(parts)) {
        dirty.add(parts[0] + "/" + parts[1]);
        return;
      }
      others.remove(key);
      if (entry != null) {
        otherProblem(key, parts, entry).ifPresent(p -> others.put(key, p));
      }
    }

    /** The keys under one service's folder, as they are now. */
    private void regroup(String folder) {
      String prefix = folder + "/";
      TreeMap<String, KeySnapshot.Entry> attrs = new TreeMap<>();
      entries
          .subMap(prefix, folder + "0")
          .forEach(
              (key, entry) -> {
                if (key.length() > prefix.length()) {
                  attrs.put(key.substring(prefix.length()), entry);
                }
              });
      String[] parts = folder.split("/", 2);
      TreeMap<String, SortedMap<String, KeySnapshot.Entry>> of =
          parts[0].equals(KeyLayout.HTTP) ? http : tcp;
      if (attrs.isEmpty()) {
        of.remove(parts[1]);
      } else {
        of.put(parts[1], Collections.unmodifiableSortedMap(attrs));
      }
    }

    private static boolean isAttribute(String[] parts) {
      return parts.length == 3
          && !parts[1].isEmpty()
          && !parts[2].isEmpty()
          && (parts[0].equals(KeyLayout.HTTP) || parts[0].equals(KeyLayout.TCP));
    }

    /** What a key outside any service is worth saying, if anything. */
    private static Optional<Problem> otherProblem(
        String key, String[] parts, KeySnapshot.Entry entry) {
      if (parts[0].equals(SEED_CERTS)) {
        // The seed's entrypoint made an empty 'certs' folder at start: only content is worth a
        // word.
        return parts.length > 1 || !entry.value().isEmpty()
            ? Optional.of(
                new Problem(
                    key,
                    "",
                    "the seed image's certificate folder is not read: put each service's PEM"
                        + " bundle in services/<name>/cert",
                    Problem.Effect.WARNING))
            : Optional.empty();
      }
      return isFolderMarker(parts, entry.value())
          ? Optional.empty()
          : Optional.of(Problem.ignored(key, entry.value(), whyUnknown(parts)));
    }
  }

  /**
   * Builds one service from its keys; if they are bad and it has last good keys that differ, from
   * those instead.
   */
  static <S> Built<S> buildAgain(
      String folder,
      String name,
      SortedMap<String, KeySnapshot.Entry> attrs,
      Optional<SortedMap<String, KeySnapshot.Entry>> earlier,
      Function<ServiceKeys, S> factory,
      java.time.Instant at) {
    Problem.Effect effect =
        earlier.isPresent() ? Problem.Effect.LAST_GOOD_KEPT : Problem.Effect.SERVICE_LEFT_OUT;
    List<Problem> found = new ArrayList<>();
    Set<ServiceName> out = new HashSet<>();
    ServiceKeys keys = new ServiceKeys(folder, name, attrs, earlier, effect, found, out);
    Optional<Candidate<S>> built = keys.build(factory);
    java.time.Instant until = keys.until;
    Optional<SortedMap<String, KeySnapshot.Entry>> good = Optional.empty();
    if (built.isPresent()) {
      good = Optional.of(attrs);
    } else if (earlier.isPresent()) {
      ServiceKeys fallback =
          new ServiceKeys(
              folder,
              name,
              earlier.get(),
              Optional.empty(),
              effect,
              new ArrayList<>(),
              new HashSet<>());
      built = fallback.build(factory);
      until = min(until, fallback.until);
      if (built.isPresent()) {
        good = earlier;
        out.clear();
      } else {
        // The last good keys no longer parse either (a setting changed): the keys as they are,
        // as if there were no last good ones. A bad backend key is then only ignored, and the
        // service may well be served.
        found.clear();
        out.clear();
        ServiceKeys plain =
            new ServiceKeys(
                folder, name, attrs, Optional.empty(), Problem.Effect.SERVICE_LEFT_OUT, found, out);
        built = plain.build(factory);
        until = min(until, plain.until);
        if (built.isPresent()) {
          good = Optional.of(attrs);
        }
      }
    }
    return new Built<>(attrs, earlier, built, List.copyOf(found), Set.copyOf(out), good, at, until);
  }

  private static java.time.Instant min(java.time.Instant a, java.time.Instant b) {
    return a.isBefore(b) ? a : b;
  }

  /** Backend keys one service may hold: above it, the service is refused by its folder. */
  public static final int MAX_BACKEND_KEYS = 1000;

  /**
   * Keys etcd v2 tools left for folders ({@code services}, {@code services/web}): no meaning, as
   * long as they hold no value.
   */
  private static boolean isFolderMarker(String[] parts, String value) {
    if (!value.isEmpty()) {
      return false;
    }
    boolean known = parts[0].equals(KeyLayout.HTTP) || parts[0].equals(KeyLayout.TCP);
    return (parts.length == 1 && (known || parts[0].isEmpty()))
        || (known && parts.length == 2)
        || (known && parts.length == 3 && !parts[1].isEmpty() && parts[2].isEmpty());
  }

  private static String whyUnknown(String[] parts) {
    boolean known = parts[0].equals(KeyLayout.HTTP) || parts[0].equals(KeyLayout.TCP);
    if (known && parts.length == 2 && !parts[1].isEmpty()) {
      return "a value on a service's folder itself: its settings go in keys under it ("
          + parts[0]
          + "/"
          + parts[1]
          + "/domain ...)";
    }
    if (known && parts.length >= 2 && parts[1].isEmpty()) {
      return "no service name between the slashes";
    }
    return "unknown key: not under services/<name>/ or tcp-services/<name>/";
  }

  static HttpService httpService(ServiceKeys keys, ParseOptions options) {
    List<HostPattern> hosts =
        keys.parse("domain", List.of("virtual_hosts"), v -> hostList(v)).orElse(List.of());
    List<PathRule> paths = new ArrayList<>();
    keys.parse("url_beg", List.of("virtual_path"), v -> list(v, PathPrefix::new))
        .ifPresent(paths::addAll);
    keys.parse("url_reg", List.of(), PathRegex::new).ifPresent(paths::add);
    boolean keepPath =
        keys.parse("keep_path", List.of("keep_virtual_path"), Grammar::bool).orElse(false);
    // The seed README's own example, 'balancing cookie', asked for sticky sessions.
    boolean stickyBalance =
        keys.parse("balance", List.of("balancing"), v -> v.strip().equalsIgnoreCase("cookie"))
            .orElse(false);
    Balance balance =
        stickyBalance
            ? Balance.ROUNDROBIN
            : keys.parse("balance", List.of("balancing"), Balance::parse)
                .orElse(Balance.ROUNDROBIN);
    Optional<Port> port = keys.parse("port", List.of(), Port::parse);
    Optional<Certificate> cert =
        keys.parseOrIgnore("cert", Certificate::parse, "the service is served on HTTP only");
    // Whether it has expired is read from the clock: the parse holds until it would say otherwise.
    cert.filter(c -> !c.isExpiredAt(options.now())).ifPresent(c -> keys.holdsUntil(c.notAfter()));
    cert.filter(c -> c.isExpiredAt(options.now()))
        .ifPresent(
            c ->
                keys.note(
                    "cert", "certificate expired at " + c.notAfter() + "; it is served anyway"));
    Optional<StickyCookie> cookie =
        keys.parseRaw("cookie", StickyCookie::parse)
            .or(() -> stickyBalance ? Optional.of(StickyCookie.parse("")) : Optional.empty());
    Optional<String> checkUri = keys.parse("health_check_uri", List.of(), Grammar::path);
    Optional<Port> checkPort = keys.parse("health_check_port", List.of(), Port::parse);
    if (checkPort.isPresent() && checkUri.isEmpty()) {
      keys.fail("health_check_port", "set without health_check_uri");
    }
    Optional<BasicAuth> auth =
        keys.parseRaw("basic_auth", List.of("basic_auth_secrets"), BasicAuth::parse);
    boolean forceHttps = keys.parse("force_https", List.of(), Grammar::bool).orElse(false);
    Optional<CustomSettings> custom = customSettings(keys, options);
    AgentBackends agent = keys.backends(options.agentHostNames());
    if (hosts.isEmpty() && paths.isEmpty() && keys.isSound()) {
      keys.fail("domain", "missing: a service needs a domain, url_beg or url_reg to be reached");
    }
    requireDiscoverable(keys, options, "port", port, agent);
    if (!keys.isSound()) {
      return null;
    }
    return new HttpService(
        keys.name(),
        HttpService.Routing.of(hosts, paths),
        new HttpService.Policy(
            keepPath,
            balance,
            cert,
            cookie,
            checkUri.map(uri -> new HealthCheck(uri, checkPort)),
            auth,
            forceHttps,
            custom),
        new HttpService.Upstream(port, agent.addresses(), agent.names()));
  }

  static TcpService tcpService(ServiceKeys keys, ParseOptions options) {
    // The Kontena fork's template bound each TCP service on its 'ports' key.
    Optional<Port> external = keys.parse("external_port", List.of("ports"), Port::parseListen);
    Optional<Port> internal = keys.parse("internal_port", List.of(), Port::parse);
    Balance balance =
        keys.parse("balance", List.of("balancing"), Balance::parse).orElse(Balance.LEASTCONN);
    AgentBackends agent = keys.backends(options.agentHostNames());
    if (external.isEmpty() && keys.isSound()) {
      keys.fail("external_port", "missing: the port HAProxy listens on for this TCP service");
    }
    requireDiscoverable(keys, options, "internal_port", internal, agent);
    if (!keys.isSound()) {
      return null;
    }
    return new TcpService(
        keys.name(), external.orElseThrow(), internal, balance, agent.addresses(), agent.names());
  }

  private static void requireDiscoverable(
      ServiceKeys keys,
      ParseOptions options,
      String portKey,
      Optional<Port> port,
      AgentBackends agent) {
    if (options.discovery() == ParseOptions.Discovery.DNS
        && port.isEmpty()
        && agent.isEmpty()
        && keys.isSound()) {
      keys.fail(
          portKey,
          "missing: needed to reach the addresses DNS gives for "
              + keys.name()
              + " (or let an agent write <instance> => ip:port keys)");
    }
  }

  private static Optional<CustomSettings> customSettings(ServiceKeys keys, ParseOptions options) {
    if (!options.customSettingsAllowed()) {
      keys.ignore(
          "custom_settings",
          "custom settings are turned off (--allow-custom-settings turns them on)");
      return Optional.empty();
    }
    return keys.parseRaw("custom_settings", CustomSettings::parse);
  }

  /**
   * Host names separated by commas, or by spaces and tabs as the seed image's template read them
   * (it put the value into one ACL line). Each name is validated on its own, so no separator can
   * smuggle anything else in; a line break is no separator and fails.
   */
  private static List<HostPattern> hostList(String value) {
    if (value.chars().anyMatch(c -> c == '\n' || c == '\r')) {
      throw new IllegalArgumentException("a line break in a host list");
    }
    return list(value.replace(' ', ',').replace('\t', ','), HostPattern::new);
  }

  /** Comma-separated list; blanks between commas are skipped. */
  private static <T> List<T> list(String value, Function<String, T> element) {
    List<T> items = new ArrayList<>();
    for (String part : value.split(",")) {
      if (!part.strip().isEmpty()) {
        items.add(element.apply(part.strip()));
      }
    }
    if (items.isEmpty()) {
      throw new IllegalArgumentException("empty list");
    }
    return items;
  }

  /**
   * A route a service claims that an earlier service has: the later one loses only that route, and
   * is left out when nothing is left. Both services' keys are named.
   */
  static Problem routeClash(String key, Route r, String ownerKey, boolean nothingLeft) {
    return new Problem(
        key.split(" \\+ ")[0],
        "",
        "route '"
            + r.toString().replace(" -> " + r.service(), "")
            + "' of "
            + key
            + " is already served through "
            + ownerKey
            + ", which was there first"
            + (nothingLeft ? "" : "; only this route is left out"),
        nothingLeft ? Problem.Effect.SERVICE_LEFT_OUT : Problem.Effect.KEY_IGNORED);
  }

  /**
   * The seed image tried services in alphabetical order, host OR path; here host and path must both
   * match and a host claimed whole wins over a path alone. So where a path-only service sorts
   * before a service that claims a host whole, the seed sent that host's requests for the path to
   * the path-only service, and here they go to the host's service. Says so once per path rule,
   * naming both services and the key that keeps the seed's routing.
   */
  static void warnWhereTheSeedRoutedOtherwise(
      Map<ServiceName, Candidate<HttpService>> byName,
      List<HttpService> served,
      List<Problem> problems) {
    if (served.stream().allMatch(s -> !s.hosts().isEmpty())) {
      return; // no service routes by path alone
    }
    List<Route> wholeHosts =
        served.stream()
            .flatMap(s -> s.routes().stream())
            .filter(r -> r.kind() == Route.Kind.HOST && !r.host().orElseThrow().isWildcard())
            .toList();
    if (wholeHosts.isEmpty()) {
      return;
    }
    for (HttpService s : served) {
      if (!s.hosts().isEmpty()) {
        continue;
      }
      for (Route path : s.routes()) {
        List<Route> shadowing =
            wholeHosts.stream().filter(h -> s.name().compareTo(h.service()) < 0).toList();
        if (shadowing.isEmpty()) {
          continue;
        }
        String key = byName.get(s.name()).keys.apply(path);
        String hosts =
            shadowing.stream()
                    .limit(3)
                    .map(h -> h.host().orElseThrow().value() + " (services/" + h.service() + ")")
                    .collect(java.util.stream.Collectors.joining(", "))
                + (shadowing.size() > 3 ? " and " + (shadowing.size() - 3) + " more" : "");
        problems.add(
            new Problem(
                key,
                "",
                "on "
                    + hosts
                    + ", requests for this path go to the host's service, not here as the seed"
                    + " image sent them: a host claimed whole wins over a path alone. To keep them"
                    + " here, add those hosts to services/"
                    + s.name()
                    + "/domain (the path then applies on the listed hosts only)",
                Problem.Effect.WARNING));
      }
    }
  }

  /**
   * A service that parsed, when its keys were first written, and which keys each of its routes
   * comes from.
   */
  record Candidate<S>(
      S service, ServiceName name, String rawName, long createdAt, Function<Route, String> keys) {}

  /** What an agent wrote for one service: addresses, and host names when allowed. */
  private record AgentBackends(List<Backend> addresses, List<NamedEndpoint> names) {
    boolean isEmpty() {
      return addresses.isEmpty() && names.isEmpty();
    }
  }

  /**
   * The keys of one service while it is being parsed: hands out attributes, records problems, and
   * treats every key it did not hand out as an agent-written backend.
   */
  static final class ServiceKeys {
    private final String base;
    private final String rawName;
    private final Map<String, KeySnapshot.Entry> attrs;
    private final Optional<? extends Map<String, KeySnapshot.Entry>> earlier;
    private final Problem.Effect leftOutEffect;
    private final List<Problem> problems;
    private final Set<ServiceName> leftOut;
    private final Set<String> taken = new HashSet<>();
    private ServiceName name;
    private boolean sound = true;

    /** When what these keys parse to may change without a key changing: a certificate expires. */
    private java.time.Instant until = java.time.Instant.MAX;

    /**
     * @param earlier the service's last good keys, when they differ from {@code attrs}: a backend
     *     key that was good there and is bad now makes the service fall back to them
     * @param leftOutEffect what a problem that leaves the service out costs
     */
    ServiceKeys(
        String folder,
        String rawName,
        Map<String, KeySnapshot.Entry> attrs,
        Optional<? extends Map<String, KeySnapshot.Entry>> earlier,
        Problem.Effect leftOutEffect,
        List<Problem> problems,
        Set<ServiceName> leftOut) {
      this.base = folder + "/" + rawName;
      this.rawName = rawName;
      this.attrs = attrs;
      this.earlier = earlier;
      this.leftOutEffect = leftOutEffect;
      this.problems = problems;
      this.leftOut = leftOut;
    }

    <S> Optional<Candidate<S>> build(Function<ServiceKeys, S> factory) {
      try {
        name = new ServiceName(rawName);
      } catch (IllegalArgumentException e) {
        problems.add(new Problem(base, rawName, e.getMessage(), leftOutEffect));
        return Optional.empty();
      }
      S service;
      try {
        service = factory.apply(this);
      } catch (IllegalArgumentException e) {
        fail("", e.getMessage());
        service = null;
      }
      if (service == null) {
        leftOut.add(name);
        return Optional.empty();
      }
      long createdAt =
          attrs.values().stream().mapToLong(KeySnapshot.Entry::createRevision).min().orElse(0);
      return Optional.of(new Candidate<>(service, name, rawName, createdAt, this::keysOf));
    }

    ServiceName name() {
      return name;
    }

    void holdsUntil(java.time.Instant t) {
      until = min(until, t);
    }

    boolean isSound() {
      return sound;
    }

    /** A stripped attribute value, or its alias's; both set to different values is a problem. */
    private Optional<String> raw(String attr, List<String> aliases, boolean strip) {
      String found = null;
      String foundKey = null;
      for (String key : concat(attr, aliases)) {
        KeySnapshot.Entry entry = attrs.get(key);
        if (entry == null) {
          continue;
        }
        taken.add(key);
        String value = strip ? entry.value().strip() : entry.value();
        if (found != null && !found.equals(value)) {
          fail(key, "conflicts with " + base + "/" + foundKey + " (they are aliases)");
          return Optional.empty();
        }
        if (found == null) {
          found = value;
          foundKey = key;
        }
      }
      return Optional.ofNullable(found);
    }

    /** Parses an attribute; a bad value leaves the whole service out. */
    <T> Optional<T> parse(String attr, List<String> aliases, Function<String, T> parser) {
      return parseWith(attr, aliases, parser, true);
    }

    /** As {@link #parse} but without stripping surrounding whitespace first. */
    <T> Optional<T> parseRaw(String attr, Function<String, T> parser) {
      return parseWith(attr, List.of(), parser, false);
    }

    <T> Optional<T> parseRaw(String attr, List<String> aliases, Function<String, T> parser) {
      return parseWith(attr, aliases, parser, false);
    }

    private <T> Optional<T> parseWith(
        String attr, List<String> aliases, Function<String, T> parser, boolean strip) {
      Optional<String> value = raw(attr, aliases, strip);
      if (value.isEmpty()) {
        return Optional.empty();
      }
      try {
        return Optional.of(parser.apply(value.get()));
      } catch (IllegalArgumentException e) {
        problems.add(
            new Problem(keyOf(attr, aliases), value.get(), reason(value.get(), e), leftOutEffect));
        sound = false;
        return Optional.empty();
      }
    }

    /** Parses an attribute whose bad value only costs that attribute, not the service. */
    <T> Optional<T> parseOrIgnore(String attr, Function<String, T> parser, String consequence) {
      Optional<String> value = raw(attr, List.of(), false);
      if (value.isEmpty()) {
        return Optional.empty();
      }
      try {
        return Optional.of(parser.apply(value.get()));
      } catch (IllegalArgumentException e) {
        problems.add(
            Problem.ignored(
                base + "/" + attr, value.get(), reason(value.get(), e) + "; " + consequence));
        return Optional.empty();
      }
    }

    void ignore(String attr, String reason) {
      raw(attr, List.of(), false)
          .ifPresent(v -> problems.add(Problem.ignored(base + "/" + attr, v, reason)));
    }

    void note(String attr, String reason) {
      problems.add(new Problem(base + "/" + attr, "", reason, Problem.Effect.WARNING));
    }

    void fail(String attr, String reason) {
      String key = attr.isEmpty() ? base : base + "/" + attr;
      KeySnapshot.Entry entry = attrs.get(attr);
      problems.add(new Problem(key, entry == null ? "" : entry.value(), reason, leftOutEffect));
      sound = false;
    }

    /**
     * Every key not handed out: {@code <instance>} or {@code upstreams/<instance>} => ip:port, or
     * host:port when the operator allows agent host names.
     */
    AgentBackends backends(boolean hostNamesAllowed) {
      List<Backend> addresses = new ArrayList<>();
      List<NamedEndpoint> names = new ArrayList<>();
      Map<String, KeySnapshot.Entry> rest = new LinkedHashMap<>(attrs);
      rest.keySet().removeAll(taken);
      if (rest.size() > MAX_BACKEND_KEYS) {
        // A runaway agent, most likely: one line for the service, not one per key.
        fail(
            "",
            rest.size()
                + " backend keys, more than the "
                + MAX_BACKEND_KEYS
                + " a service may have");
        return new AgentBackends(addresses, names);
      }
      rest.forEach(
          (key, entry) -> {
            String instance = key.startsWith(UPSTREAMS) ? key.substring(UPSTREAMS.length()) : key;
            String full = base + "/" + key;
            if (instance.isEmpty() || instance.contains("/")) {
              problems.add(Problem.ignored(full, entry.value(), "unknown key"));
              return;
            }
            String value = entry.value().strip();
            if (isAddress(value)) {
              addresses.add(Backend.parse(value));
              return;
            }
            if (hostNamesAllowed && isName(value)) {
              names.add(NamedEndpoint.parse(value));
              return;
            }
            KeySnapshot.Entry before = earlier.map(m -> m.get(key)).orElse(null);
            if (before != null
                && (isAddress(before.value().strip())
                    || (hostNamesAllowed && isName(before.value().strip())))) {
              // A serving backend turned bad: the service keeps its last good version.
              fail(key, "backend is not ip:port (" + badBackend(value) + ")");
              return;
            }
            try {
              NamedEndpoint.parse(value);
              problems.add(
                  Problem.ignored(
                      full,
                      entry.value(),
                      "backend names a host, not an IP address (--agent-host-names allows it)"));
            } catch (IllegalArgumentException e) {
              String why =
                  key.startsWith(UPSTREAMS)
                      ? "backend is not ip:port (" + reason(entry.value(), e) + ")"
                      : "unknown key: neither an attribute nor an ip:port backend";
              problems.add(Problem.ignored(full, entry.value(), why));
            }
          });
      return new AgentBackends(addresses, names);
    }

    private static boolean isAddress(String value) {
      try {
        Backend.parse(value);
        return true;
      } catch (IllegalArgumentException e) {
        return false;
      }
    }

    private static boolean isName(String value) {
      try {
        NamedEndpoint.parse(value);
        return true;
      } catch (IllegalArgumentException e) {
        return false;
      }
    }

    private static String badBackend(String value) {
      try {
        Backend.parse(value);
        return "";
      } catch (IllegalArgumentException e) {
        return reason(value, e);
      }
    }

    /**
     * The keys a route of this service comes from: {@code services/web/domain}, with {@code
     * services/web/url_beg} when it has a path too.
     */
    String keysOf(Route route) {
      List<String> keys = new ArrayList<>();
      route.host().ifPresent(h -> keys.add(keyOf("domain", List.of("virtual_hosts"))));
      route
          .path()
          .ifPresent(
              p ->
                  keys.add(
                      p instanceof PathRegex
                          ? keyOf("url_reg", List.of())
                          : keyOf("url_beg", List.of("virtual_path"))));
      return String.join(" + ", keys);
    }

    private String keyOf(String attr, List<String> aliases) {
      for (String key : concat(attr, aliases)) {
        if (attrs.containsKey(key)) {
          return base + "/" + key;
        }
      }
      return base + "/" + attr;
    }

    private static List<String> concat(String first, List<String> rest) {
      if (rest.isEmpty()) {
        return List.of(first);
      }
      List<String> all = new ArrayList<>(rest.size() + 1);
      all.add(first);
      all.addAll(rest);
      return all;
    }

    private static String reason(String value, IllegalArgumentException e) {
      return value.contains(KeySnapshot.INVALID_UTF8) ? "value is not valid UTF-8" : e.getMessage();
    }
  }
}
