package io.haproxyconfd.it.architecture.broken.domain;

import java.net.http.HttpClient;

/** Breaks "domain depends on the JDK only" by reaching a framework type (Guice). */
public class ImpureDomain {
  public com.google.inject.Injector injector;
  public HttpClient client;
}
