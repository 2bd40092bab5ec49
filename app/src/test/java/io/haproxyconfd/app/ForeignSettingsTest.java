package io.haproxyconfd.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ForeignSettingsTest {
  @Test
  void each_kontena_setting_we_do_not_honour_is_named_once_with_what_to_write() {
    List<String> notes =
        ForeignSettings.notes(
            Map.of(
                "KONTENA_LB_GLOBAL_SETTINGS", "tune.ssl.default-dh-param 2048",
                "KONTENA_LB_CUSTOM_SETTINGS", "timeout client 2m",
                "KONTENA_LB_SSL_CIPHERS", "ECDHE-RSA-AES128-GCM-SHA256",
                "SYSLOG_TARGET", "127.0.0.1 local1 info",
                "SSL_CERTS", "-----BEGIN CERTIFICATE-----",
                "SSL_CERT_www", "-----BEGIN CERTIFICATE-----",
                "ACME_CHALLENGE_abc", "abc.def",
                "PATH", "/usr/bin"));
    assertEquals(6, notes.size(), notes.toString());
    for (String name :
        List.of(
            "KONTENA_LB_GLOBAL_SETTINGS",
            "KONTENA_LB_CUSTOM_SETTINGS",
            "KONTENA_LB_SSL_CIPHERS",
            "SYSLOG_TARGET",
            "SSL_CERTS, SSL_CERT_www",
            "ACME_CHALLENGE_abc")) {
      assertEquals(
          1, notes.stream().filter(n -> n.startsWith(name)).count(), name + " in " + notes);
    }
    assertTrue(notes.stream().anyMatch(n -> n.contains("services/<name>/cert")), notes.toString());
    assertTrue(notes.stream().anyMatch(n -> n.contains("TEMPLATE_DIR")), notes.toString());
  }

  @Test
  void nothing_foreign_set_means_nothing_said() {
    assertEquals(
        List.of(),
        ForeignSettings.notes(
            Map.of(
                "PATH", "/usr/bin",
                "SYSLOG_TARGET", " ",
                "HTTP2", "true",
                "SSL_CERT_FILE", "/etc/ssl/certs/ca-certificates.crt",
                "SSL_CERT_DIR", "/etc/ssl/certs")));
  }

  @Test
  void kontenas_service_and_stack_name_give_its_prefix() {
    assertEquals(
        Optional.of("/kontena/haproxy/web/lb"),
        StoreOptions.kontenaPrefix(
            Map.of("KONTENA_STACK_NAME", "web", "KONTENA_SERVICE_NAME", "lb")));
    assertEquals(
        Optional.of("/kontena/haproxy/lb"),
        StoreOptions.kontenaPrefix(
            Map.of("KONTENA_STACK_NAME", "null", "KONTENA_SERVICE_NAME", "lb")));
    assertEquals(
        Optional.of("/kontena/haproxy/lb"),
        StoreOptions.kontenaPrefix(Map.of("KONTENA_SERVICE_NAME", "lb")));
    assertEquals(Optional.empty(), StoreOptions.kontenaPrefix(Map.of("KONTENA_STACK_NAME", "web")));
  }

  @Test
  void kontenas_http2_and_accept_proxy_mean_what_they_meant_unless_ours_are_set() {
    assertTrue(ProxyOptions.kontenaHttp2(Map.of()));
    assertTrue(ProxyOptions.kontenaHttp2(Map.of("KONTENA_LB_HTTP2", "true")));
    assertEquals(false, ProxyOptions.kontenaHttp2(Map.of("KONTENA_LB_HTTP2", "false")));
    assertTrue(ProxyOptions.kontenaHttp2(Map.of("KONTENA_LB_HTTP2", "false", "HTTP2", "true")));
    assertEquals(false, ProxyOptions.kontenaAcceptProxy(Map.of()));
    for (String any : List.of("true", "1", "yes", "false")) {
      assertTrue(ProxyOptions.kontenaAcceptProxy(Map.of("KONTENA_LB_ACCEPT_PROXY", any)), any);
    }
    assertEquals(
        false,
        ProxyOptions.kontenaAcceptProxy(
            Map.of("KONTENA_LB_ACCEPT_PROXY", "1", "ACCEPT_PROXY", "false")));
  }
}
