package io.haproxyconfd.domain;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;

/**
 * The whole desired state of one proxy: one immutable, versioned snapshot. The constructor checks
 * that it is consistent (unique names, unique TCP ports, no two services claiming the same route),
 * so an inconsistent config cannot be handed to a configurator.
 *
 * @param revision the key-store revision it was built from
 */
public record ProxyConfig(long revision, List<HttpService> http, List<TcpService> tcp) {

  public static final ProxyConfig EMPTY = new ProxyConfig(0, List.of(), List.of());

  public ProxyConfig {
    // Made by consistent() or withBackends(), which keep what was checked: nothing to redo.
    if (!(http instanceof Checked<HttpService> && tcp instanceof Checked<TcpService>)) {
      http = http.stream().sorted(Comparator.comparing(HttpService::name)).toList();
      tcp = tcp.stream().sorted(Comparator.comparing(TcpService::name)).toList();
      requireUnique(http, HttpService::name, "HTTP service");
      requireUnique(tcp, TcpService::name, "TCP service");
      requireUnique(tcp, TcpService::externalPort, "TCP external port");
      List<Route> all = http.stream().flatMap(s -> s.routes().stream()).toList();
      Set<Route.Match> matches = new HashSet<>();
      for (Route r : all) {
        if (!matches.add(r.match())) {
          throw new IllegalArgumentException("two services claim the route " + r);
        }
      }
    }
  }

  /**
   * A list this class made from services it knows to be consistent: sorted by name, names, ports
   * and routes unique. Only this class makes one, so a config holding two is consistent.
   */
  private static final class Checked<T> extends java.util.AbstractList<T>
      implements java.util.RandomAccess {
    private final Object[] items;

    Checked(List<T> items) {
      this.items = items.toArray();
    }

    /** Over {@code items} itself, which nobody may change afterwards. */
    Checked(Object[] items) {
      this.items = items;
    }

    @Override
    @SuppressWarnings("unchecked")
    public T get(int index) {
      return (T) items[index];
    }

    @Override
    public int size() {
      return items.length;
    }

    // A copy of the array, where AbstractList would call get() for each service.
    @Override
    public Object[] toArray() {
      return items.clone();
    }

    @Override
    @SuppressWarnings("unchecked")
    public <A> A[] toArray(A[] a) {
      if (a.length < items.length) {
        return (A[]) Arrays.copyOf(items, items.length, a.getClass());
      }
      System.arraycopy(items, 0, a, 0, items.length);
      if (a.length > items.length) {
        a[items.length] = null;
      }
      return a;
    }
  }

  /**
   * A config the parser assembled service by service (arrays of {@link HttpService} and {@link
   * TcpService} that it never changes again), sorted by name, whose names, TCP ports and routes it
   * keeps unique itself (its claims bookkeeping), so that a pass over 10,000 services does not sort
   * and check them all again. The parser's tests check these configs against the checking
   * constructor.
   */
  static ProxyConfig consistent(long revision, Object[] http, Object[] tcp) {
    return new ProxyConfig(revision, new Checked<HttpService>(http), new Checked<TcpService>(tcp));
  }

  /**
   * This config with other backends for some services: {@code http} and {@code tcp} hold, in this
   * config's order, each service itself or the same service with other backends. A service in
   * another place, or with other routes or another TCP port, is refused: what the constructor
   * checked stays true, so nothing needs checking again.
   */
  public ProxyConfig withBackends(List<HttpService> http, List<TcpService> tcp) {
    // The same routing object gives the same routes: a service given backends keeps it, and
    // comparing 10,000 route lists cost a pass after one moved name ~10 ms.
    Checked<HttpService> h = new Checked<>(http);
    Checked<TcpService> t = new Checked<>(tcp);
    requireSame(
        this.http, h, (a, b) -> a.routing() == b.routing() || a.routes().equals(b.routes()));
    requireSame(this.tcp, t, (a, b) -> a.externalPort().equals(b.externalPort()));
    return new ProxyConfig(revision, h, t);
  }

  @SuppressWarnings("unchecked")
  private static <T> void requireSame(
      List<T> mine, Checked<T> theirs, java.util.function.BiPredicate<T, T> sameRoutes) {
    if (mine.size() != theirs.size()) {
      throw new IllegalArgumentException(
          "backends for " + theirs.size() + " services, not " + mine.size());
    }
    // Over arrays: at 10,000 services a list call per service was most of the walk.
    Object[] before = mine instanceof Checked<T> c ? c.items : mine.toArray();
    Object[] after = theirs.items;
    for (int i = 0; i < before.length; i++) {
      if (before[i] == after[i]) {
        continue;
      }
      T a = (T) before[i];
      T b = (T) after[i];
      if (a != b && !(nameOf(a).equals(nameOf(b)) && sameRoutes.test(a, b))) {
        throw new IllegalArgumentException(
            "backends for " + nameOf(b) + " in the place of " + nameOf(a));
      }
    }
  }

  private static ServiceName nameOf(Object service) {
    return service instanceof HttpService h ? h.name() : ((TcpService) service).name();
  }

  /**
   * How many services from {@code i} on in {@code a} and from {@code j} on in {@code b} are the
   * very same objects, pair by pair. A walk over two configs skips a run of unchanged services with
   * it: over the arrays of two configs this class made, one tight loop, rather than two list calls
   * per service (at 10,000 services and one changed, ~50 against ~300 microseconds).
   */
  public static <T> int sameRun(List<T> a, int i, List<T> b, int j) {
    int n = Math.min(a.size() - i, b.size() - j);
    int k = 0;
    if (a instanceof Checked<T> x && b instanceof Checked<T> y) {
      Object[] p = x.items;
      Object[] q = y.items;
      while (k < n && p[i + k] == q[j + k]) {
        k++;
      }
    } else {
      while (k < n && a.get(i + k) == b.get(j + k)) {
        k++;
      }
    }
    return Math.max(k, 0);
  }

  /** Every HTTP route, most specific first ({@link Route#MOST_SPECIFIC_FIRST}). */
  public List<Route> routes() {
    List<Route> routes = new ArrayList<>();
    http.forEach(s -> routes.addAll(s.routes()));
    routes.sort(Route.MOST_SPECIFIC_FIRST);
    return routes;
  }

  /** The HTTP service of that name; a binary search, since the services are sorted by name. */
  public Optional<HttpService> httpService(ServiceName name) {
    return byName(http, HttpService::name, name);
  }

  public Optional<TcpService> tcpService(ServiceName name) {
    return byName(tcp, TcpService::name, name);
  }

  private static <T> Optional<T> byName(
      List<T> sorted, Function<T, ServiceName> nameOf, ServiceName name) {
    int i = indexOf(sorted, nameOf, name);
    return i < 0 ? Optional.empty() : Optional.of(sorted.get(i));
  }

  private static <T> int indexOf(
      List<T> sorted, Function<T, ServiceName> nameOf, ServiceName name) {
    int low = 0;
    int high = sorted.size() - 1;
    while (low <= high) {
      int mid = (low + high) >>> 1;
      int c = nameOf.apply(sorted.get(mid)).compareTo(name);
      if (c == 0) {
        return mid;
      }
      if (c < 0) {
        low = mid + 1;
      } else {
        high = mid - 1;
      }
    }
    return -1;
  }

  /** This config without the named services, HTTP or TCP: to set aside a service that breaks. */
  public ProxyConfig without(Set<ServiceName> names) {
    if (names.isEmpty()) {
      return this;
    }
    return new ProxyConfig(
        revision,
        http.stream().filter(s -> !names.contains(s.name())).toList(),
        tcp.stream().filter(s -> !names.contains(s.name())).toList());
  }

  /**
   * This config with service {@code name} as {@code earlier} has it: to keep serving a version the
   * proxy accepted when the new one is refused. Empty when {@code earlier} has no other version of
   * it, or when that version would clash with this config's other services.
   */
  public Optional<ProxyConfig> replacing(ServiceName name, ProxyConfig earlier) {
    Optional<HttpService> oldHttp = earlier.httpService(name);
    Optional<TcpService> oldTcp = earlier.tcpService(name);
    if ((oldHttp.isEmpty() && oldTcp.isEmpty())
        || (oldHttp.isPresent() && oldHttp.equals(httpService(name)))
        || (oldTcp.isPresent() && oldTcp.equals(tcpService(name)))) {
      return Optional.empty();
    }
    ProxyConfig rest = without(Set.of(name));
    List<HttpService> h = new ArrayList<>(rest.http);
    oldHttp.ifPresent(h::add);
    List<TcpService> t = new ArrayList<>(rest.tcp);
    oldTcp.ifPresent(t::add);
    try {
      return Optional.of(new ProxyConfig(revision, h, t));
    } catch (IllegalArgumentException clash) {
      return Optional.empty();
    }
  }

  private static <T, K> void requireUnique(List<T> items, Function<T, K> key, String what) {
    Set<K> seen = new HashSet<>();
    for (T item : items) {
      if (!seen.add(key.apply(item))) {
        throw new IllegalArgumentException(what + " " + key.apply(item) + " appears twice");
      }
    }
  }
}
