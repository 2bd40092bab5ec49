package io.haproxyconfd.it.architecture.broken.app;

/** The app of the broken fixture; it may know everything. */
public class Wiring {}
