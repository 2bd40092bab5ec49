package io.haproxyconfd.domain;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.SortedMap;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * A parse that reuses what it parsed before must give what a parse from nothing gives: checked
 * after each of 1,000 random changes, bad values, clashes and deletions included, with the last
 * good keys sometimes kept back or lost as the loop would.
 */
class ConfigParserMemoTest {
  private static final List<String> HTTP_KEYS =
      List.of(
          "domain",
          "url_beg",
          "url_reg",
          "port",
          "balance",
          "keep_path",
          "custom_settings",
          "w1",
          "w2");
  private static final Map<String, List<String>> VALUES =
      Map.of(
          "domain",
              List.of(
                  "a.example.org",
                  "b.example.org",
                  "*.example.org",
                  "a.example.org,c.example.org",
                  "bad host!"),
          "url_beg", List.of("/", "/api", "/api,/static", "no-slash"),
          "url_reg", List.of("^/v[0-9]+/", "\\.png$", "(unclosed"),
          "port", List.of("80", "8080", "80x"),
          "balance", List.of("leastconn", "source", "bogus"),
          "keep_path", List.of("true", "false", "maybe"),
          "custom_settings", List.of("timeout server 5s", "bind :1\nfrontend x"),
          "w1", List.of("10.0.0.1:80", "10.0.0.2:80", "nope"),
          "w2", List.of("10.0.0.3:80", "[::1]:80", "10.0.0.1"),
          "external_port", List.of("5432", "5433", "99999"));

  @Test
  void a_memo_parse_equals_a_fresh_parse_after_every_change() {
    Random random = new Random(17);
    TreeMap<String, KeySnapshot.Entry> keys = new TreeMap<>();
    ConfigParser.Memo memo = new ConfigParser.Memo();
    ConfigParser.Memo byChanges = new ConfigParser.Memo();
    LastGood good = LastGood.NONE;
    // 5433 is taken by something else: the TCP services that ask for it are all left out.
    ParseOptions options =
        Keys.DNS.withDiscovery(ParseOptions.Discovery.KEYS).withReservedPort(5433, "taken");
    int parsed = 0;
    ParseResult previous = null;
    List<HttpService> previousHttp = List.of();
    List<TcpService> previousTcp = List.of();
    for (int revision = 1; revision <= 1000; revision++) {
      TreeMap<String, KeySnapshot.Entry> before = new TreeMap<>(keys);
      change(random, keys, revision);
      if (revision % 250 == 0) {
        options = options.withCustomSettingsAllowed(!options.customSettingsAllowed());
      }
      KeySnapshot snapshot = new KeySnapshot(revision, keys);
      // The loop parses with the time of each pass: a memo that compared it would never reuse.
      ParseOptions at =
          new ParseOptions(
              options.reservedPorts(),
              options.discovery(),
              options.customSettingsAllowed(),
              Keys.NOW.plusSeconds(revision),
              options.agentHostNames());
      ParseResult fresh = ConfigParser.parse(snapshot, at, good);
      ParseResult kept = ConfigParser.parse(snapshot, at, good, memo);
      assertEquals(fresh, kept, "after change " + revision + " to " + keys);
      // A config handed out is never changed by a later pass: the memo patches a copy.
      if (previous != null) {
        assertEquals(previousHttp, previous.config().http(), "an earlier config changed");
        assertEquals(previousTcp, previous.config().tcp(), "an earlier config changed");
      }
      previous = kept;
      previousHttp = new ArrayList<>(kept.config().http());
      previousTcp = new ArrayList<>(kept.config().tcp());
      parsed += Integer.parseInt(memo.lastParse().split(" ")[2]);
      ParseResult changed =
          revision == 1
              ? byChanges.parse(snapshot, at, good)
              : byChanges.parse(changes(revision - 1, revision, before, keys), at, good);
      assertEquals(fresh, changed, "by changes, after change " + revision + " to " + keys);
      // What the memo assembles without checking passes the checks.
      ProxyConfig c = kept.config();
      assertEquals(
          c, new ProxyConfig(c.revision(), new ArrayList<>(c.http()), new ArrayList<>(c.tcp())));
      // The loop keeps the last good keys only when the proxy took the config; and a daemon that
      // lost its last-good file starts from none.
      int fate = random.nextInt(40);
      good = fate == 0 ? LastGood.NONE : fate < 8 ? good : kept.lastGood();
    }
    // A change of one key parses its own service again: not the 40 there are, nor the four
    // resets when the options change.
    assertTrue(parsed < 1000 + 4 * 40 + 200, "services parsed in 1,000 changes: " + parsed);
  }

  /** Options that parse differently redo everything: the services served are listed anew. */
  @Test
  void a_pass_that_parses_everything_again_lists_the_services_anew() {
    ConfigParser.Memo memo = new ConfigParser.Memo();
    TreeMap<String, KeySnapshot.Entry> keys = new TreeMap<>();
    keys.put("tcp-services/db/external_port", new KeySnapshot.Entry("5432", 1));
    keys.put("tcp-services/db/w1", new KeySnapshot.Entry("10.0.0.1:80", 1));
    keys.put("services/web/domain", new KeySnapshot.Entry("a.example.org", 1));
    keys.put("services/web/w1", new KeySnapshot.Entry("10.0.0.2:80", 1));
    ParseOptions options = Keys.DNS.withDiscovery(ParseOptions.Discovery.KEYS);
    ParseResult first = ConfigParser.parse(new KeySnapshot(1, keys), options, LastGood.NONE, memo);
    assertEquals(1, first.config().tcp().size());
    assertEquals(1, first.config().http().size());

    // Every service gone, and the options changed with it: no service settles into a list.
    keys.clear();
    ParseOptions other = options.withCustomSettingsAllowed(!options.customSettingsAllowed());
    KeySnapshot none = new KeySnapshot(2, keys);
    ParseResult second = ConfigParser.parse(none, other, LastGood.NONE, memo);
    assertEquals(ConfigParser.parse(none, other, LastGood.NONE), second);
    assertTrue(second.config().tcp().isEmpty(), "tcp: " + second.config().tcp());
    assertTrue(second.config().http().isEmpty(), "http: " + second.config().http());
  }

  /**
   * A start or a resync parses thousands of services at once: it must give what handing them to a
   * memo a few hundred at a time gives, bad values, clashes and last good keys included.
   */
  @Test
  void thousands_of_services_parsed_at_once_equal_them_parsed_a_few_at_a_time() {
    Random random = new Random(21);
    ParseOptions options = Keys.DNS.withDiscovery(ParseOptions.Discovery.KEYS);
    // Last good keys from an earlier state of the same services, then the keys now.
    LastGood good =
        ConfigParser.parse(new KeySnapshot(8_000, manyServices(random, 1)), options, LastGood.NONE)
            .lastGood();
    TreeMap<String, KeySnapshot.Entry> keys = manyServices(random, 8_001);
    long last = 16_000;
    ParseResult atOnce = ConfigParser.parse(new KeySnapshot(last, keys), options, good);
    assertTrue(atOnce.config().http().size() > 300, "services: " + atOnce.config().http().size());
    assertTrue(atOnce.config().tcp().size() > 200, "TCP services: " + atOnce.config().tcp().size());
    assertTrue(atOnce.problems().size() > 300, "problems: " + atOnce.problems().size());
    assertTrue(
        atOnce.problems().stream().anyMatch(p -> p.effect() == Problem.Effect.LAST_GOOD_KEPT),
        "some services served from their last good keys");

    // The same keys, handed to a memo 300 folders at a time.
    TreeMap<String, TreeMap<String, Optional<KeySnapshot.Entry>>> byFolder = new TreeMap<>();
    keys.forEach(
        (k, e) -> {
          int slash = k.indexOf('/', k.indexOf('/') + 1);
          String folder = slash < 0 ? k : k.substring(0, slash);
          byFolder.computeIfAbsent(folder, f -> new TreeMap<>()).put(k, Optional.of(e));
        });
    List<TreeMap<String, Optional<KeySnapshot.Entry>>> chunks = new ArrayList<>();
    int n = 0;
    for (var folder : byFolder.values()) {
      if (n++ % 300 == 0) {
        chunks.add(new TreeMap<>());
      }
      chunks.get(chunks.size() - 1).putAll(folder);
    }
    ConfigParser.Memo memo = new ConfigParser.Memo();
    long revision = last - chunks.size();
    memo.parse(KeySnapshot.empty(revision), options, good);
    ParseResult fewAtATime = null;
    for (var chunk : chunks) {
      fewAtATime = memo.parse(new KeyChanges(revision, revision + 1, chunk), options, good);
      revision++;
    }
    assertEquals(atOnce, fewAtATime);
  }

  /**
   * 1,500 HTTP and 300 TCP services, most with hosts and ports of their own, some sharing, some
   * with bad values; created from {@code firstRevision} on, some in one transaction.
   */
  private static TreeMap<String, KeySnapshot.Entry> manyServices(
      Random random, long firstRevision) {
    TreeMap<String, KeySnapshot.Entry> keys = new TreeMap<>();
    long revision = firstRevision;
    for (int i = 0; i < 1_500; i++) {
      String folder = "services/s" + i + "/";
      revision += random.nextInt(2);
      KeySnapshot.Entry own = new KeySnapshot.Entry("s" + i + ".example.org", revision);
      keys.put(folder + "domain", own);
      for (String key : HTTP_KEYS) {
        if (random.nextInt(key.equals("w1") ? 1 : 6) == 0) {
          List<String> values = VALUES.get(key);
          keys.put(
              folder + key,
              new KeySnapshot.Entry(values.get(random.nextInt(values.size())), revision));
        }
      }
      if (random.nextInt(5) != 0) {
        keys.put(folder + "domain", own); // most keep a host of their own
      }
    }
    for (int i = 0; i < 300; i++) {
      String folder = "tcp-services/t" + i + "/";
      revision += random.nextInt(2);
      int port = random.nextInt(10) == 0 ? 5432 : 20_000 + i;
      keys.put(folder + "external_port", new KeySnapshot.Entry(Integer.toString(port), revision));
      keys.put(folder + "w1", new KeySnapshot.Entry("10.0.0." + (i % 250) + ":5432", revision));
    }
    return keys;
  }

  /** What changed from {@code before} to {@code after}, as a watch would tell it. */
  private static KeyChanges changes(
      long from,
      long to,
      SortedMap<String, KeySnapshot.Entry> before,
      SortedMap<String, KeySnapshot.Entry> after) {
    TreeMap<String, Optional<KeySnapshot.Entry>> changed = new TreeMap<>();
    before.keySet().stream()
        .filter(k -> !after.containsKey(k))
        .forEach(k -> changed.put(k, Optional.empty()));
    after.forEach(
        (k, e) -> {
          if (!e.equals(before.get(k))) {
            changed.put(k, Optional.of(e));
          }
        });
    return new KeyChanges(from, to, changed);
  }

  /**
   * Last good keys that no longer parse (kept in a file from an earlier daemon) and a bad backend
   * key now: the service is served from its keys as they are, the bad key ignored, at once and
   * again on the pass after, when the last good keys handed out are handed back.
   */
  @Test
  void last_good_keys_that_no_longer_parse_leave_the_keys_as_they_are() {
    LastGood fromFile =
        LastGood.of(
            Map.of(
                "services/web",
                Map.of(
                    "domain", new KeySnapshot.Entry("bad host!", 1),
                    "port", new KeySnapshot.Entry("80", 1),
                    "w1", new KeySnapshot.Entry("10.0.0.1:80", 1))));
    KeySnapshot snapshot =
        Keys.of(
                "services/web/domain", "a.example.org",
                "services/web/port", "80",
                "services/web/w1", "nope")
            .snapshot();
    ParseOptions options = Keys.DNS.withDiscovery(ParseOptions.Discovery.KEYS);
    ConfigParser.Memo memo = new ConfigParser.Memo();
    ParseResult first = memo.parse(snapshot, options, fromFile);
    assertEquals(ConfigParser.parse(snapshot, options, fromFile), first);
    assertEquals(1, first.config().http().size(), "served from its keys: " + first.problems());
    ParseResult second = memo.parse(snapshot, options, first.lastGood());
    assertEquals(ConfigParser.parse(snapshot, options, first.lastGood()), second);
    assertEquals(first.config(), second.config());
  }

  @Test
  void changes_that_do_not_follow_the_last_parse_are_refused() {
    ConfigParser.Memo memo = new ConfigParser.Memo();
    KeyChanges changes = new KeyChanges(4, 5, new TreeMap<>());
    assertThrows(IllegalStateException.class, () -> memo.parse(changes, Keys.DNS, LastGood.NONE));
    memo.parse(KeySnapshot.empty(3), Keys.DNS, LastGood.NONE);
    assertThrows(IllegalStateException.class, () -> memo.parse(changes, Keys.DNS, LastGood.NONE));
  }

  /** Keys outside any service: folder markers, the seed's certificate folder, unknown keys. */
  private static final List<String> OTHER_KEYS =
      List.of("services", "services/s1", "services/s1/", "services//x", "certs", "certs/a", "foo");

  /**
   * Sets, changes or deletes one key of one of 40 services or outside them, or deletes a whole
   * service.
   */
  private static void change(Random random, Map<String, KeySnapshot.Entry> keys, int revision) {
    change(random, keys, revision, 30, 10);
  }

  private static void change(
      Random random, Map<String, KeySnapshot.Entry> keys, int revision, int http, int tcpCount) {
    if (random.nextInt(10) == 0) {
      String key = OTHER_KEYS.get(random.nextInt(OTHER_KEYS.size()));
      if (random.nextBoolean()) {
        keys.remove(key);
      } else {
        keys.put(key, new KeySnapshot.Entry(random.nextBoolean() ? "" : "x", revision));
      }
      return;
    }
    boolean tcp = random.nextInt(4) == 0;
    String folder = (tcp ? "tcp-services/t" : "services/s") + random.nextInt(tcp ? tcpCount : http);
    if (random.nextInt(20) == 0) {
      keys.keySet().removeIf(k -> k.startsWith(folder + "/"));
      return;
    }
    List<String> names = tcp ? List.of("external_port", "w1", "w2") : HTTP_KEYS;
    String key = folder + "/" + names.get(random.nextInt(names.size()));
    if (random.nextInt(6) == 0) {
      keys.remove(key);
      return;
    }
    List<String> values = VALUES.get(key.substring(key.lastIndexOf('/') + 1));
    String value = values.get(random.nextInt(values.size()));
    KeySnapshot.Entry old = keys.get(key);
    // Every third revision shares its create revision with the one before, as keys written in one
    // transaction do: ties between services are broken by name.
    long created = revision - (revision % 3 == 0 ? 1 : 0);
    keys.put(key, new KeySnapshot.Entry(value, old == null ? created : old.createRevision()));
  }

  @Test
  void a_certificate_that_expires_is_parsed_again_though_no_key_changed() {
    KeySnapshot snapshot =
        Keys.of(
                "services/web/domain", "old.example.org",
                "services/web/port", "80",
                "services/web/cert", TestCertificates.rsa("old.example.org"))
            .snapshot();
    ConfigParser.Memo memo = new ConfigParser.Memo();
    ParseResult before = ConfigParser.parse(snapshot, Keys.DNS, LastGood.NONE, memo);
    assertTrue(before.problems().isEmpty(), before.problems().toString());
    java.time.Instant notAfter =
        before.config().http().get(0).policy().certificate().orElseThrow().notAfter();
    ParseOptions later = ParseOptions.defaults(notAfter.plusSeconds(1));
    ParseResult after = ConfigParser.parse(snapshot, later, LastGood.NONE, memo);
    assertEquals(ConfigParser.parse(snapshot, later, LastGood.NONE), after);
    assertEquals(1, after.problems().size(), "the expiry is told: " + after.problems());
    ParseResult clockSetBack = ConfigParser.parse(snapshot, Keys.DNS, LastGood.NONE, memo);
    assertEquals(before, clockSetBack, "a clock set back finds the certificate valid again");
  }
}
