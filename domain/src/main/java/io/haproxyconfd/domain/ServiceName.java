package io.haproxyconfd.domain;

/** The name of an HTTP or TCP service: the folder name under {@code services/}. */
public record ServiceName(String value) implements Comparable<ServiceName> {
  public ServiceName {
    Grammar.name(value, "service name");
  }

  public static ServiceName of(String value) {
    return new ServiceName(value);
  }

  @Override
  public int compareTo(ServiceName other) {
    return value.compareTo(other.value);
  }

  @Override
  public String toString() {
    return value;
  }
}
