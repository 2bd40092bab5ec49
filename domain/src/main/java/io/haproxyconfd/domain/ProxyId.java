package io.haproxyconfd.domain;

import java.util.regex.Pattern;

/**
 * Which proxy instance this is ({@code HAPROXY_ID}), and the folder its keys live under: {@code
 * haproxy-<id>} by default, or a prefix of the operator's ({@code kontena/haproxy/lb1}, as
 * Kontena's load balancer kept them).
 *
 * @param value the proxy's name, for logs
 * @param folder the folder, without any store-specific leading or trailing slash
 */
public record ProxyId(String value, String folder) {
  private static final Pattern FOLDER =
      Pattern.compile("[A-Za-z0-9_-][A-Za-z0-9._-]*(/[A-Za-z0-9_-][A-Za-z0-9._-]*)*");

  public ProxyId {
    Grammar.name(value, "HAPROXY_ID");
    if (folder == null || folder.length() > 200 || !FOLDER.matcher(folder).matches()) {
      throw new IllegalArgumentException(
          "the key prefix '"
              + folder
              + "' is not a path of names made of letters, digits and ._- (like"
              + " /kontena/haproxy/lb1)");
    }
  }

  /** The seed image's layout: keys under {@code haproxy-<id>}. */
  public ProxyId(String value) {
    this(value, "haproxy-" + value);
  }

  /**
   * A proxy whose keys live under {@code prefix} ({@code /kontena/haproxy/lb1/}); named {@code
   * name}, or after the prefix's last part when no name is given.
   */
  public static ProxyId atPrefix(String prefix, String name) {
    String folder = prefix.strip().replaceAll("^/+", "").replaceAll("/+$", "");
    String value = name != null ? name : folder.substring(folder.lastIndexOf('/') + 1);
    return new ProxyId(value, folder);
  }

  @Override
  public String toString() {
    return value;
  }
}
