package io.haproxyconfd.app;

import com.google.inject.Guice;
import com.google.inject.Inject;
import com.google.inject.Module;
import io.haproxyconfd.ports.BackendResolver;
import io.haproxyconfd.ports.KeyValueSource;
import io.haproxyconfd.ports.ProxyConfigurator;
import java.util.List;

/**
 * The three ports' implementations a command works with, built by Guice from the modules the
 * options chose ({@link StoreOptions#modules}, {@link HaproxyModule}): the one place an object
 * graph is asked of Guice. Nothing runs until a command starts it.
 */
final class Components implements AutoCloseable {
  final KeyValueSource source;
  final BackendResolver resolver;
  final ProxyConfigurator proxy;

  @Inject
  Components(KeyValueSource source, BackendResolver resolver, ProxyConfigurator proxy) {
    this.source = source;
    this.resolver = resolver;
    this.proxy = proxy;
  }

  /** The store and resolver the options chose, and HAProxy run with {@code proxy}'s settings. */
  static Components build(StoreOptions store, ProxyOptions proxy) throws java.io.IOException {
    List<Module> modules = new java.util.ArrayList<>(store.modules());
    modules.add(new HaproxyModule(proxy.settings()));
    return Guice.createInjector(modules).getInstance(Components.class);
  }

  /**
   * Closes the store, the resolver and the proxy's supervision; HAProxy keeps serving unless the
   * proxy was {@link ProxyConfigurator#stop stopped} first.
   */
  @Override
  public void close() {
    source.close();
    resolver.close();
    proxy.close();
  }
}
