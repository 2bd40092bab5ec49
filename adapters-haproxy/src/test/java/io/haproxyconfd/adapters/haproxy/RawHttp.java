package io.haproxyconfd.adapters.haproxy;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;

/** HTTP/1.1 over a plain socket: the Host header, SNI and every other header exactly as given. */
public final class RawHttp {
  private RawHttp() {}

  /** A response: status, headers (lower-case names), body, and the TLS peer certificate if any. */
  public record Response(
      int status, Map<String, String> headers, String body, X509Certificate peer) {
    public String header(String name) {
      return headers.get(name.toLowerCase(java.util.Locale.ROOT));
    }
  }

  public static Response get(int port, String host, String path, String... headerLines)
      throws IOException {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 2000);
      return exchange(socket, host, path, null, headerLines);
    }
  }

  /** The same over TLS, with {@code sni} as the server name; any certificate is accepted. */
  public static Response getTls(int port, String sni, String host, String path) throws Exception {
    try (SSLSocket socket = handshake(port, sni)) {
      X509Certificate peer = (X509Certificate) socket.getSession().getPeerCertificates()[0];
      return exchange(socket, host, path, peer);
    }
  }

  /** The certificates a TLS server sends for {@code sni}, leaf first, as it sent them. */
  public static X509Certificate[] peerChain(int port, String sni) throws Exception {
    try (SSLSocket socket = handshake(port, sni)) {
      return java.util.Arrays.stream(socket.getSession().getPeerCertificates())
          .map(c -> (X509Certificate) c)
          .toArray(X509Certificate[]::new);
    }
  }

  private static SSLSocket handshake(int port, String sni) throws Exception {
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(null, new TrustManager[] {TRUST_ALL}, null);
    SSLSocket socket =
        (SSLSocket) context.getSocketFactory().createSocket(InetAddress.getLoopbackAddress(), port);
    try {
      socket.setSoTimeout(5000);
      SSLParameters params = socket.getSSLParameters();
      params.setServerNames(List.of(new SNIHostName(sni)));
      socket.setSSLParameters(params);
      socket.startHandshake();
      return socket;
    } catch (Exception e) {
      socket.close();
      throw e;
    }
  }

  private static Response exchange(
      Socket socket, String host, String path, X509Certificate peer, String... headerLines)
      throws IOException {
    socket.setSoTimeout(5000);
    StringBuilder request =
        new StringBuilder("GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\n");
    for (String h : headerLines) {
      request.append(h).append("\r\n");
    }
    request.append("Connection: close\r\n\r\n");
    socket.getOutputStream().write(request.toString().getBytes(StandardCharsets.US_ASCII));
    InputStream in = socket.getInputStream();
    String text = new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
    int split = text.indexOf("\r\n\r\n");
    if (split < 0) {
      throw new IOException("no HTTP response: " + text);
    }
    String[] head = text.substring(0, split).split("\r\n");
    Map<String, String> headers = new TreeMap<>();
    for (int i = 1; i < head.length; i++) {
      int colon = head[i].indexOf(':');
      headers.merge(
          head[i].substring(0, colon).trim().toLowerCase(java.util.Locale.ROOT),
          head[i].substring(colon + 1).trim(),
          (a, b) -> a + ", " + b);
    }
    String body = text.substring(split + 4);
    if ("chunked".equalsIgnoreCase(headers.get("transfer-encoding"))) {
      body = dechunk(body);
    }
    return new Response(Integer.parseInt(head[0].split(" ")[1]), headers, body, peer);
  }

  private static String dechunk(String body) {
    StringBuilder out = new StringBuilder();
    int pos = 0;
    while (pos < body.length()) {
      int eol = body.indexOf("\r\n", pos);
      int size = Integer.parseInt(body.substring(pos, eol).split(";")[0].trim(), 16);
      if (size == 0) {
        break;
      }
      out.append(body, eol + 2, eol + 2 + size);
      pos = eol + 2 + size + 2;
    }
    return out.toString();
  }

  private static final X509TrustManager TRUST_ALL =
      new X509TrustManager() {
        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) {}

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) {}

        @Override
        public X509Certificate[] getAcceptedIssuers() {
          return new X509Certificate[0];
        }
      };
}
