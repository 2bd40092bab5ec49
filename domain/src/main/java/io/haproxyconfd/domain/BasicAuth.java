package io.haproxyconfd.domain;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.regex.Pattern;

/**
 * HTTP basic authentication in front of a service. Passwords are crypt(3) hashes, or plain text
 * where Kontena's load balancer took it ({@code user NAME insecure-password PASSWORD}): HAProxy
 * then keeps it as it is in its config, as Kontena's did.
 */
public record BasicAuth(List<User> users) {
  public BasicAuth {
    if (users == null || users.isEmpty()) {
      throw new IllegalArgumentException("basic auth needs at least one user");
    }
    users = users.stream().sorted(Comparator.comparing(User::name)).toList();
    if (users.stream().map(User::name).distinct().count() != users.size()) {
      throw new IllegalArgumentException("basic auth names a user twice");
    }
  }

  /**
   * A user and the crypt(3) hash of the password: {@code $1$}, {@code $5$}, {@code $6$} or bcrypt;
   * or, when {@code plain}, the password itself (letters, digits and {@code ._~!@%^*+=,:/-}).
   */
  public record User(String name, String passwordHash, boolean plain) {
    private static final Pattern HASH =
        Pattern.compile("\\$(1|5|6|2[aby])\\$[A-Za-z0-9./$]{8,200}");
    private static final Pattern PLAIN = Pattern.compile("[A-Za-z0-9._~!@%^*+=,:/-]{1,128}");

    public User {
      Grammar.token(name, "user name");
      if (plain && (passwordHash == null || !PLAIN.matcher(passwordHash).matches())) {
        throw new IllegalArgumentException(
            "insecure-password of user '"
                + name
                + "' may hold only letters, digits and ._~!@%^*+=,:/- (or give a crypt(3) hash"
                + " with 'password')");
      }
      if (!plain && (passwordHash == null || !HASH.matcher(passwordHash).matches())) {
        throw new IllegalArgumentException(
            "password of user '" + name + "' must be a crypt(3) hash ($1$, $5$, $6$ or $2y$)");
      }
    }

    public User(String name, String passwordHash) {
      this(name, passwordHash, false);
    }
  }

  /**
   * Parses users separated by newlines or commas, each either {@code name:hash} or Kontena's {@code
   * user NAME password HASH}.
   */
  public static BasicAuth parse(String value) {
    List<User> users = new ArrayList<>();
    for (String entry : value.split("[\\n,]")) {
      String line = entry.strip();
      if (line.isEmpty()) {
        continue;
      }
      String[] words = line.split(" +");
      if (words.length == 4 && words[0].equals("user") && words[2].equals("password")) {
        users.add(new User(words[1], words[3]));
      } else if (words.length == 4
          && words[0].equals("user")
          && words[2].equals("insecure-password")) {
        users.add(new User(words[1], words[3], true));
      } else if (words.length == 1 && line.indexOf(':') > 0) {
        int colon = line.indexOf(':');
        users.add(new User(line.substring(0, colon), line.substring(colon + 1)));
      } else {
        throw new IllegalArgumentException(
            "each user must be 'name:hash', 'user NAME password HASH' or 'user NAME"
                + " insecure-password PASSWORD'");
      }
    }
    return new BasicAuth(users);
  }
}
