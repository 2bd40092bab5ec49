package io.haproxyconfd.ports;

import java.time.Duration;

/**
 * One server of a service as the proxy itself holds it now, not as the daemon meant it: for the
 * operator's status page.
 *
 * @param server the proxy's name for it (a slot such as {@code s1})
 * @param address the address the proxy sends to
 * @param port the port the proxy sends to
 * @param state the proxy's own word: {@code UP}, {@code DOWN}, {@code STARTING} or {@code STOPPING}
 * @param sinceChange how long it has been in that state
 */
public record ServerHealth(
    String server, String address, int port, String state, Duration sinceChange) {}
