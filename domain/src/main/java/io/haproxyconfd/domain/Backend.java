package io.haproxyconfd.domain;

import java.util.Comparator;
import java.util.List;
import java.util.regex.Pattern;

/**
 * One server of a service: an IP address literal and a port. Host names are resolved before a
 * backend is made, so that HAProxy never resolves anything itself.
 */
public record Backend(String address, Port port) implements Comparable<Backend> {
  private static final Pattern IPV6_CHARS = Pattern.compile("[0-9a-f:.]{2,45}");
  private static final Comparator<Backend> ORDER =
      Comparator.comparing(Backend::address).thenComparing(Backend::port);

  public Backend {
    boolean v4 = address != null && isIpv4(address);
    if (address == null || !(v4 || isIpv6(address.toLowerCase(java.util.Locale.ROOT)))) {
      throw new IllegalArgumentException("not an IPv4 or IPv6 address");
    }
    if (!v4) {
      address = canonicalIpv6(address.toLowerCase(java.util.Locale.ROOT));
    }
    if (port == null) {
      throw new IllegalArgumentException("backend port is missing");
    }
  }

  public static Backend of(String address, int port) {
    return new Backend(address, Port.of(port));
  }

  /** Parses {@code 10.0.0.1:80} or {@code [2001:db8::1]:80}. */
  public static Backend parse(String text) {
    if (text == null) {
      throw new IllegalArgumentException("not ip:port");
    }
    String host;
    String port;
    if (text.startsWith("[")) {
      int close = text.indexOf("]:");
      if (close < 0) {
        throw new IllegalArgumentException("not [ipv6]:port");
      }
      host = text.substring(1, close);
      port = text.substring(close + 2);
    } else {
      int colon = text.lastIndexOf(':');
      if (colon < 0 || text.indexOf(':') != colon) {
        throw new IllegalArgumentException("not ip:port");
      }
      host = text.substring(0, colon);
      port = text.substring(colon + 1);
    }
    return new Backend(host.toLowerCase(java.util.Locale.ROOT), Port.parse(port));
  }

  public boolean isIpv6() {
    return address.indexOf(':') >= 0;
  }

  /** The form HAProxy and URLs use: IPv6 in brackets. */
  public String hostForUrl() {
    return isIpv6() ? "[" + address + "]" : address;
  }

  /**
   * Four decimal numbers of 0 to 255 joined by dots, none with a leading zero ({@code 010} could be
   * read as octal). Written out, not a regular expression: every backend passes through here.
   */
  static boolean isIpv4(String text) {
    int parts = 0;
    int start = 0;
    while (true) {
      int dot = text.indexOf('.', start);
      int end = dot < 0 ? text.length() : dot;
      String part = text.substring(start, end);
      if (!part.equals("0") && !(Port.isDecimal(part, 3) && Integer.parseInt(part) <= 255)) {
        return false;
      }
      parts++;
      if (dot < 0) {
        return parts == 4;
      }
      if (parts == 4) {
        return false;
      }
      start = dot + 1;
    }
  }

  /** A syntactic check of an IPv6 literal (RFC 4291 text forms, with an embedded IPv4 tail). */
  static boolean isIpv6(String text) {
    if (!IPV6_CHARS.matcher(text).matches()) {
      return false;
    }
    int doubleColon = text.indexOf("::");
    if (doubleColon >= 0 && text.indexOf("::", doubleColon + 1) >= 0) {
      return false;
    }
    String body = text;
    int groupsNeeded = 8;
    int lastColon = text.lastIndexOf(':');
    if (text.indexOf('.') >= 0) {
      if (!isIpv4(text.substring(lastColon + 1))) {
        return false;
      }
      body = text.substring(0, lastColon + 1) + "0";
      groupsNeeded = 7;
    }
    String[] halves = body.split("::", -1);
    int groups = 0;
    for (String half : halves) {
      if (half.isEmpty()) {
        continue;
      }
      for (String group : half.split(":", -1)) {
        if (group.isEmpty() || group.length() > 4) {
          return false;
        }
        groups++;
      }
    }
    return doubleColon >= 0 ? groups < groupsNeeded : groups == groupsNeeded;
  }

  /** RFC 5952 text: lower-case, no leading zeros, the longest run of zero groups as "::". */
  static String canonicalIpv6(String text) {
    int[] groups = new int[8];
    String body = text;
    int fill = 8;
    if (text.indexOf('.') >= 0) {
      String[] v4 = text.substring(text.lastIndexOf(':') + 1).split("\\.");
      body = text.substring(0, text.lastIndexOf(':') + 1) + "0:0";
      groups[6] = Integer.parseInt(v4[0]) << 8 | Integer.parseInt(v4[1]);
      groups[7] = Integer.parseInt(v4[2]) << 8 | Integer.parseInt(v4[3]);
    }
    String[] halves = body.split("::", -1);
    List<String> head = halves[0].isEmpty() ? List.of() : List.of(halves[0].split(":"));
    List<String> tail =
        halves.length < 2 || halves[1].isEmpty() ? List.of() : List.of(halves[1].split(":"));
    int[] parsed = new int[fill];
    for (int i = 0; i < head.size(); i++) {
      parsed[i] = Integer.parseInt(head.get(i), 16);
    }
    for (int i = 0; i < tail.size(); i++) {
      parsed[fill - tail.size() + i] = Integer.parseInt(tail.get(i), 16);
    }
    if (text.indexOf('.') >= 0) {
      parsed[6] = groups[6];
      parsed[7] = groups[7];
    }
    int bestStart = -1;
    int bestLength = 1;
    for (int i = 0; i < 8; ) {
      int j = i;
      while (j < 8 && parsed[j] == 0) {
        j++;
      }
      if (j - i > bestLength) {
        bestStart = i;
        bestLength = j - i;
      }
      i = j == i ? i + 1 : j;
    }
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < 8; i++) {
      if (i == bestStart) {
        out.append("::");
        i += bestLength - 1;
        continue;
      }
      if (out.length() > 0 && out.charAt(out.length() - 1) != ':') {
        out.append(':');
      }
      out.append(Integer.toHexString(parsed[i]));
    }
    return out.toString();
  }

  @Override
  public int compareTo(Backend other) {
    return ORDER.compare(this, other);
  }

  @Override
  public String toString() {
    return hostForUrl() + ":" + port;
  }
}
