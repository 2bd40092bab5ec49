package io.haproxyconfd.domain;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Function;

/**
 * Everything one parse found, kept so that the next parse redoes only the services whose inputs
 * changed: their keys, their last good keys, the options, the time a certificate expires. The clash
 * rules are kept per route and per port, so that a changed service is checked against the services
 * it shares a route or a port with, not against all of them.
 *
 * <p>The rule the clash bookkeeping rests on: of all services claiming a route (or a TCP port), the
 * one created first (then by name) gets it, and a service is left out only when every route it
 * claims went to others. Parsing from nothing is this with every service changed.
 *
 * <p>Not thread-safe: one per loop.
 */
final class ParseState {
  /** Earlier keys win conflicts; the name breaks ties. */
  private static final Comparator<ConfigParser.Candidate<?>> FIRST =
      Comparator.<ConfigParser.Candidate<?>>comparingLong(ConfigParser.Candidate::createdAt)
          .thenComparing(c -> c.name());

  private static final Comparator<Problem> PROBLEM_ORDER =
      Comparator.comparing(Problem::key)
          .thenComparing(Problem::reason)
          .thenComparing(Problem::value)
          .thenComparing(Problem::effect);

  private final ConfigParser.Grouping grouping = new ConfigParser.Grouping();

  private ParseOptions options;
  private Instant lastNow = Instant.MIN;
  private long revision;
  private boolean fresh = true;

  /** What each service folder parsed to, by folder ({@code services/web}). */
  private final Map<String, ConfigParser.Built<?>> built = new HashMap<>();

  /** The earliest moment a kept parse may no longer hold (a certificate expires). */
  private Instant nextExpiry = Instant.MAX;

  /** The last good keys the builds were made against, and the ones this state handed out. */
  private LastGood lastGoodIn = LastGood.NONE;

  private LastGood produced = LastGood.NONE;

  private final SharedMap.Builder<String, SortedMap<String, KeySnapshot.Entry>> nextGood =
      SharedMap.<String, SortedMap<String, KeySnapshot.Entry>>empty().toBuilder();
  private boolean goodChanged;

  // The parsers' problems and left-out services, only for folders that have some.
  private final TreeMap<String, List<Problem>> buildProblems = new TreeMap<>();
  private final Map<String, Set<ServiceName>> buildLeftOut = new HashMap<>();

  private Claims<HttpService, Route.Match> http = new Claims<>();
  private Claims<TcpService, Port> tcp = new Claims<>();
  // The services served, by folder name: a name's text orders as the name does.
  private final TreeMap<String, HttpService> acceptedHttp = new TreeMap<>();
  private final TreeMap<String, TcpService> acceptedTcp = new TreeMap<>();

  /**
   * The services the last result served, sorted by name (never changed once handed out), and the
   * version each service settled since then had in it (null: none), by folder name. The next result
   * puts the settled services in their places in a copy, rather than listing 10,000 again.
   */
  private Object[] servedHttp;

  private Object[] servedTcp;
  private final Map<String, HttpService> settledHttp = new HashMap<>();
  private final Map<String, TcpService> settledTcp = new HashMap<>();

  /** HTTP services served with no host: while there are any, the seed's routing is compared. */
  private int pathOnly;

  private int reused;
  private int parsed;

  /** Who claims what, and what each claimant was given (its accepted version and its problems). */
  private static final class Claims<S, K> {
    final Map<String, ConfigParser.Candidate<S>> candidates = new HashMap<>();
    final Map<K, TreeSet<ConfigParser.Candidate<S>>> claimants = new HashMap<>();
    final Map<String, List<Problem>> problems = new HashMap<>();

    /** The claimants left out by a clash, by folder name. */
    final Map<String, ServiceName> leftOut = new HashMap<>();

    void claim(ConfigParser.Candidate<S> c, Collection<K> keys) {
      for (K k : keys) {
        claimants.computeIfAbsent(k, x -> new TreeSet<>(FIRST)).add(c);
      }
    }

    void unclaim(ConfigParser.Candidate<S> c, Collection<K> keys) {
      for (K k : keys) {
        TreeSet<ConfigParser.Candidate<S>> set = claimants.get(k);
        if (set != null) {
          set.remove(c);
          if (set.isEmpty()) {
            claimants.remove(k);
          }
        }
      }
    }

    /** Everyone claiming one of {@code keys}. */
    void claimantsOf(Collection<K> keys, Set<String> into) {
      for (K k : keys) {
        TreeSet<ConfigParser.Candidate<S>> set = claimants.get(k);
        if (set != null) {
          set.forEach(c -> into.add(c.rawName()));
        }
      }
    }

    ConfigParser.Candidate<S> owner(K key) {
      TreeSet<ConfigParser.Candidate<S>> set = claimants.get(key);
      return set == null ? null : set.first();
    }
  }

  /** The keys grouped as {@code entries} holds them; every service whose keys changed is redone. */
  ParseResult parse(KeySnapshot snapshot, ParseOptions pass, LastGood lastGood) {
    Set<String> dirty = grouping.update(snapshot.entries());
    revision = snapshot.revision();
    return pass(dirty, pass, lastGood);
  }

  /** The keys as {@code changes} leaves them: only those keys' services are redone. */
  ParseResult parse(KeyChanges changes, ParseOptions pass, LastGood lastGood) {
    if (fresh || changes.fromRevision() != revision) {
      throw new IllegalStateException(
          "changes from revision "
              + changes.fromRevision()
              + " do not follow the keys parsed last ("
              + (fresh ? "none" : "revision " + revision)
              + ")");
    }
    Set<String> dirty = grouping.apply(changes.keys());
    revision = changes.revision();
    return pass(dirty, pass, lastGood);
  }

  long revision() {
    return revision;
  }

  String lastParse() {
    return reused + " reused, " + parsed + " parsed";
  }

  private ParseResult pass(Set<String> changedFolders, ParseOptions pass, LastGood lastGood) {
    Instant now = pass.now();
    reused = 0;
    parsed = 0;
    Set<String> dirty = new HashSet<>(changedFolders);
    boolean everything = fresh || !options.parsesAs(pass) || now.isBefore(lastNow);
    if (everything) {
      // Options that parse differently, or a clock set back: nothing kept holds.
      built.clear();
      nextExpiry = Instant.MAX;
      nextGood.clear();
      buildProblems.clear();
      buildLeftOut.clear();
      http = new Claims<>();
      tcp = new Claims<>();
      acceptedHttp.clear();
      acceptedTcp.clear();
      servedHttp = null;
      servedTcp = null;
      pathOnly = 0;
    }
    // The last good keys this state handed out last time, now handed back, change no parse: a
    // service whose keys parsed has them as its last good keys, and then they do not count; one
    // that fell back to its last good keys has the same ones; one where neither parsed has none
    // now, and its parse is the plain one it already made. (ConfigParserMemoTest holds to it.)
    // Any other last good keys are compared service by service.
    if (everything || (lastGood != lastGoodIn && lastGood != produced)) {
      dirty.addAll(grouping.folders());
      dirty.addAll(built.keySet());
    }
    if (!now.isBefore(nextExpiry)) {
      nextExpiry = Instant.MAX;
      built.forEach(
          (folder, b) -> {
            if (!now.isBefore(b.until())) {
              dirty.add(folder);
            } else if (b.until().isBefore(nextExpiry)) {
              nextExpiry = b.until();
            }
          });
    }
    fresh = false;
    options = pass;
    lastNow = now;
    lastGoodIn = lastGood;
    goodChanged = everything;

    Set<String> httpAffected = new HashSet<>();
    Set<String> tcpAffected = new HashSet<>();
    for (String folder : dirty) {
      rebuild(folder, lastGood, httpAffected, tcpAffected);
    }
    httpAffected.forEach(this::settleHttp);
    tcpAffected.forEach(this::settleTcp);
    return result();
  }

  private static Optional<SortedMap<String, KeySnapshot.Entry>> earlier(
      String folder, Optional<SortedMap<String, KeySnapshot.Entry>> attrs, LastGood lastGood) {
    return lastGood.of(folder).filter(m -> !m.equals(attrs.get()));
  }

  /** Whether a folder's last parse holds for these keys, last good keys and time. */
  private boolean reusable(
      ConfigParser.Built<?> old,
      SortedMap<String, KeySnapshot.Entry> attrs,
      Optional<SortedMap<String, KeySnapshot.Entry>> earlier) {
    Instant now = options.now();
    return old != null
        && old.attrs().equals(attrs)
        && old.earlier().equals(earlier)
        && !now.isBefore(old.at())
        && now.isBefore(old.until());
  }

  /** One folder's parse: a function of its keys, its last good keys and the options. */
  private ConfigParser.Built<?> build(
      String folder,
      SortedMap<String, KeySnapshot.Entry> attrs,
      Optional<SortedMap<String, KeySnapshot.Entry>> earlier) {
    String[] parts = folder.split("/", 2);
    ParseOptions o = options;
    return parts[0].equals(KeyLayout.HTTP)
        ? ConfigParser.buildAgain(
            parts[0], parts[1], attrs, earlier, keys -> ConfigParser.httpService(keys, o), o.now())
        : ConfigParser.buildAgain(
            parts[0], parts[1], attrs, earlier, keys -> ConfigParser.tcpService(keys, o), o.now());
  }

  /** Parses one folder again (or reuses its parse), and re-files its claims. */
  private void rebuild(
      String folder, LastGood lastGood, Set<String> httpAffected, Set<String> tcpAffected) {
    String[] parts = folder.split("/", 2);
    boolean isHttp = parts[0].equals(KeyLayout.HTTP);
    Optional<SortedMap<String, KeySnapshot.Entry>> attrs = grouping.attrs(folder);
    ConfigParser.Built<?> old = built.get(folder);
    ConfigParser.Built<?> next = null;
    if (attrs.isPresent()) {
      Optional<SortedMap<String, KeySnapshot.Entry>> earlier = earlier(folder, attrs, lastGood);
      if (reusable(old, attrs.get(), earlier)) {
        next = old;
        reused++;
      } else {
        next = build(folder, attrs.get(), earlier);
        parsed++;
      }
      built.put(folder, next);
      if (next.until().isBefore(nextExpiry)) {
        nextExpiry = next.until();
      }
    } else {
      built.remove(folder);
    }
    Optional<SortedMap<String, KeySnapshot.Entry>> good =
        next == null ? Optional.empty() : next.good();
    SortedMap<String, KeySnapshot.Entry> was =
        good.isPresent() ? nextGood.put(folder, good.get()) : nextGood.remove(folder);
    if (was != good.orElse(null)) {
      goodChanged = true;
    }
    file(folder, buildProblems, next == null ? List.of() : next.problems());
    if (next == null || next.leftOut().isEmpty()) {
      buildLeftOut.remove(folder);
    } else {
      buildLeftOut.put(folder, next.leftOut());
    }
    if (old == next) {
      return;
    }
    if (isHttp) {
      reclaim(parts[1], http, old, next, s -> matches(s), httpAffected);
    } else {
      reclaim(parts[1], tcp, old, next, s -> ports(s), tcpAffected);
    }
  }

  @SuppressWarnings("unchecked")
  private <S, K> void reclaim(
      String name,
      Claims<S, K> claims,
      ConfigParser.Built<?> old,
      ConfigParser.Built<?> next,
      Function<S, Collection<K>> keysOf,
      Set<String> affected) {
    affected.add(name);
    Optional<ConfigParser.Candidate<S>> before =
        old == null ? Optional.empty() : ((ConfigParser.Built<S>) old).candidate();
    Optional<ConfigParser.Candidate<S>> after =
        next == null ? Optional.empty() : ((ConfigParser.Built<S>) next).candidate();
    before.ifPresent(
        c -> {
          Collection<K> keys = keysOf.apply(c.service());
          claims.claimantsOf(keys, affected);
          claims.unclaim(c, keys);
          claims.candidates.remove(name);
        });
    after.ifPresent(
        c -> {
          Collection<K> keys = keysOf.apply(c.service());
          claims.claim(c, keys);
          claims.claimantsOf(keys, affected);
          claims.candidates.put(name, c);
        });
  }

  private static Collection<Route.Match> matches(HttpService s) {
    List<Route.Match> m = new ArrayList<>();
    s.routes().forEach(r -> m.add(r.match()));
    return m;
  }

  private Collection<Port> ports(TcpService s) {
    // A reserved port is nobody's: every service asking for it is left out.
    return options.reservedPorts().containsKey(s.externalPort())
        ? List.of()
        : List.of(s.externalPort());
  }

  /** What one HTTP service keeps of its routes, now that its claims or its rivals' changed. */
  private void settleHttp(String rawName) {
    String folder = KeyLayout.HTTP + "/" + rawName;
    http.leftOut.remove(rawName);
    HttpService was = acceptedHttp.remove(rawName);
    if (!settledHttp.containsKey(rawName)) {
      settledHttp.put(rawName, was);
    }
    if (was != null && was.hosts().isEmpty()) {
      pathOnly--;
    }
    ConfigParser.Candidate<HttpService> c = http.candidates.get(rawName);
    if (c == null) {
      http.problems.remove(folder);
      return;
    }
    List<Route> routes = c.service().routes();
    List<Route> clashing = new ArrayList<>();
    for (Route r : routes) {
      if (http.owner(r.match()) != c) {
        clashing.add(r);
      }
    }
    boolean nothingLeft = !clashing.isEmpty() && clashing.size() == routes.size();
    List<Problem> problems = new ArrayList<>();
    for (Route r : clashing) {
      ConfigParser.Candidate<HttpService> owner = http.owner(r.match());
      Route owned =
          owner.service().routes().stream()
              .filter(o -> o.match().equals(r.match()))
              .findFirst()
              .orElseThrow();
      problems.add(
          ConfigParser.routeClash(c.keys().apply(r), r, owner.keys().apply(owned), nothingLeft));
    }
    file(folder, http.problems, problems);
    if (nothingLeft) {
      http.leftOut.put(rawName, c.service().name());
      return;
    }
    HttpService service =
        clashing.isEmpty()
            ? c.service()
            : c.service()
                .withholding(
                    clashing.stream()
                        .map(Route::match)
                        .collect(java.util.stream.Collectors.toSet()));
    acceptedHttp.put(rawName, service);
    if (service.hosts().isEmpty()) {
      pathOnly++;
    }
  }

  /** Whether one TCP service keeps its port. */
  private void settleTcp(String rawName) {
    String folder = KeyLayout.TCP + "/" + rawName;
    tcp.leftOut.remove(rawName);
    TcpService was = acceptedTcp.remove(rawName);
    if (!settledTcp.containsKey(rawName)) {
      settledTcp.put(rawName, was);
    }
    ConfigParser.Candidate<TcpService> c = tcp.candidates.get(rawName);
    if (c == null) {
      tcp.problems.remove(folder);
      return;
    }
    Port port = c.service().externalPort();
    String reason = null;
    if (options.reservedPorts().containsKey(port)) {
      reason = "port " + port + " is " + options.reservedPorts().get(port);
    } else if (tcp.owner(port) != c) {
      reason =
          "port "
              + port
              + " is already used by TCP service "
              + tcp.owner(port).service().name()
              + ", which was there first";
    }
    if (reason != null) {
      file(
          folder,
          tcp.problems,
          List.of(
              Problem.leftOut(
                  KeyLayout.tcp(c.service().name()) + "/external_port", port.toString(), reason)));
      tcp.leftOut.put(rawName, c.service().name());
      return;
    }
    tcp.problems.remove(folder);
    acceptedTcp.put(rawName, c.service());
  }

  private static void file(String folder, Map<String, List<Problem>> into, List<Problem> list) {
    if (list.isEmpty()) {
      into.remove(folder);
    } else {
      into.put(folder, list);
    }
  }

  /**
   * The services served now, sorted by name: {@code last} with each settled service in its place,
   * in a copy; or, when a service came or went (or there is no last list), all of them again.
   * Clears {@code settled}.
   */
  private static <S> Object[] served(
      Object[] last,
      Map<String, S> settled,
      TreeMap<String, S> accepted,
      Function<S, ServiceName> nameOf) {
    Object[] next = last;
    for (Map.Entry<String, S> e : settled.entrySet()) {
      S before = e.getValue();
      S now = accepted.get(e.getKey());
      if (next == null || before == now) {
        continue;
      }
      int i =
          before == null || now == null || !nameOf.apply(before).equals(nameOf.apply(now))
              ? -1
              : indexOf(last, nameOf.apply(before), nameOf);
      if (i < 0 || last[i] != before) {
        next = null; // a service came or went: listed again
      } else {
        if (next == last) {
          next = last.clone();
        }
        next[i] = now;
      }
    }
    settled.clear();
    return next != null ? next : accepted.values().toArray();
  }

  @SuppressWarnings("unchecked")
  private static <S> int indexOf(
      Object[] sorted, ServiceName name, Function<S, ServiceName> nameOf) {
    int low = 0;
    int high = sorted.length - 1;
    while (low <= high) {
      int mid = (low + high) >>> 1;
      int c = nameOf.apply((S) sorted[mid]).compareTo(name);
      if (c == 0) {
        return mid;
      } else if (c < 0) {
        low = mid + 1;
      } else {
        high = mid - 1;
      }
    }
    return -1;
  }

  private ParseResult result() {
    List<Problem> problems = new ArrayList<>(grouping.others());
    buildProblems.values().forEach(problems::addAll);
    http.problems.values().forEach(problems::addAll);
    tcp.problems.values().forEach(problems::addAll);
    servedHttp = served(servedHttp, settledHttp, acceptedHttp, HttpService::name);
    servedTcp = served(servedTcp, settledTcp, acceptedTcp, TcpService::name);
    if (pathOnly > 0) {
      List<ConfigParser.Candidate<HttpService>> order = new ArrayList<>(http.candidates.values());
      order.sort(FIRST);
      Map<ServiceName, ConfigParser.Candidate<HttpService>> byName = new HashMap<>();
      order.forEach(c -> byName.put(c.service().name(), c));
      List<HttpService> inOrder = new ArrayList<>(servedHttp.length);
      for (Object s : servedHttp) {
        inOrder.add((HttpService) s);
      }
      inOrder.sort(Comparator.comparing(s -> byName.get(s.name()), FIRST));
      ConfigParser.warnWhereTheSeedRoutedOtherwise(byName, inOrder, problems);
    }
    problems.sort(PROBLEM_ORDER);
    Set<ServiceName> leftOut = new HashSet<>();
    buildLeftOut.values().forEach(leftOut::addAll);
    leftOut.addAll(http.leftOut.values());
    leftOut.addAll(tcp.leftOut.values());
    if (goodChanged || produced != lastGoodIn) {
      // Shares all but the folders changed since the last result: no copy of 10,000 folders.
      SharedMap<String, SortedMap<String, KeySnapshot.Entry>> good = nextGood.build();
      produced =
          goodChanged || !good.equals(lastGoodIn.shared()) ? LastGood.sharing(good) : lastGoodIn;
    }
    return new ParseResult(
        ProxyConfig.consistent(revision, servedHttp, servedTcp), problems, leftOut, produced);
  }
}
