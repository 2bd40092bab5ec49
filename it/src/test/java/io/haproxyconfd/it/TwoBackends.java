package io.haproxyconfd.it;

import io.haproxyconfd.adapters.haproxy.EchoBackend;
import java.net.InetAddress;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Two echo backends for a service to move between: {@code a} on 127.0.0.1 and {@code b} on
 * 127.0.0.2, on the same port, so that a DNS answer or an agent key can switch them. Use as
 * {@code @RegisterExtension static TwoBackends backends = new TwoBackends();}.
 */
final class TwoBackends implements BeforeAllCallback, AfterAllCallback {
  EchoBackend a;
  EchoBackend b;

  @Override
  public void beforeAll(ExtensionContext context) throws Exception {
    a = new EchoBackend("a");
    b = new EchoBackend("b", InetAddress.getByName("127.0.0.2"), a.port());
  }

  @Override
  public void afterAll(ExtensionContext context) {
    a.close();
    b.close();
  }
}
