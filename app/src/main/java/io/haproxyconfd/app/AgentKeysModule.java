package io.haproxyconfd.app;

import com.google.inject.AbstractModule;
import io.haproxyconfd.ports.BackendResolver;

/** Backends only from agent-written keys (the Kontena mode). */
final class AgentKeysModule extends AbstractModule {
  @Override
  protected void configure() {
    bind(BackendResolver.class).to(AgentKeysResolver.class).in(com.google.inject.Singleton.class);
  }
}
