package io.haproxyconfd.app;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * Environment variables of the load balancers we replace that this daemon does not honour. Each one
 * set is named once by {@code run} and {@code check}, with what to write instead, so that nothing a
 * user relied on is dropped in silence. The ones that keep their meaning are read as aliases by the
 * options themselves ({@code KONTENA_LB_HTTP2}, {@code KONTENA_LB_ACCEPT_PROXY}, {@code
 * KONTENA_LB_HEALTH_URI}, {@code KONTENA_SERVICE_NAME}).
 */
final class ForeignSettings {
  private static final String OWN_TEMPLATE =
      "put them in your own haproxy.cfg.ftl (TEMPLATE_DIR; the README says where to find the"
          + " built-in one to start from)";

  private ForeignSettings() {}

  /** One line for each foreign variable {@code env} sets. */
  static List<String> notes(Map<String, String> env) {
    List<String> notes = new ArrayList<>();
    if (set(env, "KONTENA_LB_GLOBAL_SETTINGS")) {
      notes.add(
          "KONTENA_LB_GLOBAL_SETTINGS is not applied: no setting adds lines to HAProxy's global"
              + " section; "
              + OWN_TEMPLATE);
    }
    if (set(env, "KONTENA_LB_CUSTOM_SETTINGS")) {
      notes.add(
          "KONTENA_LB_CUSTOM_SETTINGS is not applied: no setting adds lines to HAProxy's"
              + " defaults section; "
              + OWN_TEMPLATE
              + ", or give one service its lines in its custom_settings key");
    }
    if (set(env, "KONTENA_LB_SSL_CIPHERS")) {
      notes.add(
          "KONTENA_LB_SSL_CIPHERS is not applied: HAProxy's default ciphers are used; to"
              + " restrict them, set ssl-default-bind-ciphers in your own haproxy.cfg.ftl"
              + " (TEMPLATE_DIR)");
    }
    if (set(env, "SYSLOG_TARGET")) {
      notes.add(
          "SYSLOG_TARGET is not used: HAProxy's events go to the daemon's log, and its access log"
              + " to the daemon's standard output with ACCESS_LOG=stdout; forward them from there");
    }
    TreeSet<String> certs = new TreeSet<>();
    TreeSet<String> challenges = new TreeSet<>();
    env.forEach(
        (name, value) -> {
          if (value != null && !value.isBlank()) {
            // Only PEM values: OpenSSL's own SSL_CERT_FILE and SSL_CERT_DIR name paths.
            if ((name.equals("SSL_CERTS") || name.startsWith("SSL_CERT_"))
                && value.contains("-----BEGIN")) {
              certs.add(name);
            } else if (name.startsWith("ACME_CHALLENGE_")) {
              challenges.add(name);
            }
          }
        });
    if (!certs.isEmpty()) {
      notes.add(
          String.join(", ", certs)
              + ": certificates are not read from the environment, so HTTPS is not served from"
              + " them; write each certificate, its chain and its key to the cert key of the"
              + " service it is for (services/<name>/cert)");
    }
    if (!challenges.isEmpty()) {
      notes.add(
          String.join(", ", challenges)
              + ": ACME challenges are not answered from the environment; route"
              + " /.well-known/acme-challenge/ to your ACME client with a service whose url_beg is"
              + " that path");
    }
    return notes;
  }

  private static boolean set(Map<String, String> env, String name) {
    String value = env.get(name);
    return value != null && !value.isBlank();
  }
}
