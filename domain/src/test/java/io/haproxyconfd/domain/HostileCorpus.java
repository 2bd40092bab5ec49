package io.haproxyconfd.domain;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * Malicious and malformed key values: characters that could break out of a config line, a quoted
 * word or a map entry, in every field; huge values; out-of-range numbers; bad hosts, paths,
 * regexes, credentials, backends and certificates. Each case is one bad value at one key of service
 * {@code bad} or TCP service {@code badtcp}. Used by {@link HostileValuesTest} against the parser
 * and by the end-to-end hostile-input test against the daemon and a real HAProxy.
 */
public final class HostileCorpus {
  private HostileCorpus() {}

  /** One bad value, at one key, beside services that must not notice. */
  public record Case(String key, String value) {
    @Override
    public String toString() {
      return key + "=" + Problem.shorten(value);
    }
  }

  static final Map<String, String> GOOD =
      Map.of(
          "services/good/domain", "good.example.org",
          "services/good/url_beg", "/good",
          "services/good/port", "80",
          "tcp-services/goodtcp/external_port", "5000",
          "tcp-services/goodtcp/internal_port", "5000");

  static final Map<String, String> BAD_BASE =
      Map.of(
          "services/bad/domain", "bad.example.org",
          "services/bad/port", "8080",
          "tcp-services/badtcp/external_port", "6000",
          "tcp-services/badtcp/internal_port", "6000");

  /** Characters that could break out of a config line, a quoted word or a map entry. */
  private static final List<String> BREAKERS =
      List.of(
          "\n",
          "\r\nbackend evil\n  server x 6.6.6.6:80",
          " ",
          "\t",
          "\"",
          "'",
          "#comment",
          "%[req.hdr(host)]",
          "\u0000",
          "\u00e9",
          KeySnapshot.decode(new byte[] {(byte) 0xc3, 0x28}),
          "\u2028",
          "`",
          "\u000b");

  /**
   * Where each breaker goes: a valid value, with the breaker inserted after the first character.
   */
  private static final Map<String, String> FIELDS =
      new TreeMap<>(
          Map.ofEntries(
              Map.entry("services/bad/domain", "bad.example.org"),
              Map.entry("services/bad/virtual_hosts", "bad.example.org"),
              Map.entry("services/bad/port", "8080"),
              Map.entry("services/bad/url_beg", "/api"),
              Map.entry("services/bad/url_reg", "^/api"),
              Map.entry("services/bad/balance", "roundrobin"),
              Map.entry("services/bad/keep_path", "true"),
              Map.entry("services/bad/cookie", "SERVERID"),
              Map.entry("services/bad/health_check_uri", "/health"),
              Map.entry("services/bad/force_https", "true"),
              Map.entry("services/bad/basic_auth", "alice:$6$saltsalt$abcdefghijklmnop"),
              Map.entry("services/bad/upstreams/b-1", "10.0.0.1:80"),
              Map.entry("tcp-services/badtcp/external_port", "6000"),
              Map.entry("tcp-services/badtcp/internal_port", "6000"),
              Map.entry("tcp-services/badtcp/balance", "leastconn")));

  private static boolean isHostList(String key) {
    return key.endsWith("/domain") || key.endsWith("/virtual_hosts");
  }

  /** Host lists that are not, each made from {@code bad.example.org}. */
  private static final List<String> BAD_HOSTS =
      List.of(
          "",
          "-bad.example.org",
          "bad-.example.org",
          "bad..example.org",
          "bad.example.org.",
          "*.*.example.org",
          "*",
          "*.",
          "bad_name.example.org",
          "a".repeat(64) + ".org",
          ("abc." + "d".repeat(60) + ".").repeat(5) + "org",
          "http://bad.example.org",
          "bad.example.org/x",
          "bad.example.org:80",
          "b*d.example.org",
          "bad.example.org;evil");

  /** Backend addresses that are not. */
  private static final List<String> BAD_BACKENDS =
      List.of(
          "10.0.0.1",
          "10.0.0.256:80",
          "10.0.0.1:0",
          "::1:80",
          "[::1]80",
          "[fe80::1%eth0]:80",
          "1.2.3.4:80 backup",
          "example.org:80");

  /** Characters that could break out of a config line, a quoted word or a map entry. */
  public static List<String> breakers() {
    return BREAKERS;
  }

  public static List<String> badHosts() {
    return BAD_HOSTS;
  }

  public static List<String> badBackends() {
    return BAD_BACKENDS;
  }

  /** Every case, for service {@code bad} or TCP service {@code badtcp}. */
  public static Stream<Case> cases() {
    List<Case> cases = new ArrayList<>();
    FIELDS.forEach(
        (key, valid) -> {
          for (String breaker : BREAKERS) {
            if (isHostList(key) && (breaker.equals(" ") || breaker.equals("\t"))) {
              continue; // separators in a host list, as the seed image read them: not hostile
            }
            cases.add(new Case(key, valid.charAt(0) + breaker + valid.substring(1)));
          }
          cases.add(new Case(key, valid + "x".repeat(100_000)));
        });
    for (String port :
        List.of(
            "0", "65536", "80abc", "-1", "+80", "080", "1e3", "0x50", "99999999999", "", "8 0")) {
      cases.add(new Case("services/bad/port", port));
      cases.add(new Case("tcp-services/badtcp/external_port", port));
    }
    for (String host : BAD_HOSTS) {
      cases.add(new Case("services/bad/domain", host));
    }
    for (String path :
        List.of("api", "/a?b=c", "/a b", "/" + "a".repeat(600), "/a\\b", "/a<b>", "/{x}", "")) {
      cases.add(new Case("services/bad/url_beg", path));
      cases.add(new Case("services/bad/health_check_uri", path));
    }
    for (String regex : List.of("(", "[a-", "a{99999999999}", "^/" + "a".repeat(300), "/a b", "")) {
      cases.add(new Case("services/bad/url_reg", regex));
    }
    for (String balance :
        List.of("url_param x", "hdr(host)", "round robin", "", "roundrobin\nbackend x", "RR")) {
      cases.add(new Case("services/bad/balance", balance));
    }
    for (String auth :
        List.of(
            "alice:secret",
            "alice insecure-password secret",
            "alice",
            ":$6$saltsalt$abcdefgh",
            "user alice password plain",
            "al ice:$6$saltsalt$abcdefgh",
            "alice:$6$saltsalt$abcdefgh,alice:$6$saltsalt$abcdefgh",
            "user admin insecure-password pa ss",
            "user admin insecure-password pa#ss",
            "user admin insecure-password \"pass\"",
            "user admin insecure-password pa$ss",
            "user admin insecure-password pass\nbackend evil")) {
      cases.add(new Case("services/bad/basic_auth", auth));
    }
    for (String bool : List.of("maybe", "tru", "", "true false")) {
      cases.add(new Case("services/bad/keep_path", bool));
      cases.add(new Case("services/bad/force_https", bool));
    }
    cases.add(new Case("services/bad/health_check_port", "70000"));
    for (String backend : BAD_BACKENDS) {
      cases.add(new Case("services/bad/upstreams/b-1", backend));
    }
    String cert = TestCertificates.rsa("bad.example.org");
    String other = TestCertificates.rsa("other.example.org");
    cases.add(new Case("services/bad/cert", "not a certificate"));
    cases.add(new Case("services/bad/cert", TestCertificates.mismatched(cert, other)));
    cases.add(new Case("services/bad/cert", TestCertificates.certificatePart(cert)));
    cases.add(new Case("services/bad/cert", cert + "frontend evil\n"));
    cases.add(new Case("services/bad/cert", cert.replace("MII", "M\"I")));
    return cases.stream();
  }
}
