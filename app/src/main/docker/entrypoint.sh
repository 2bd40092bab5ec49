#!/bin/sh
# The image's entrypoint, also run directly by the end-to-end tests and ./run demo.
# It honours the seed image's environment: HAPROXY_ID (or HAPROXY-ID), ETCD_NODE, DNS_SERVERS,
# STATS_PASSWORD; every flag of 'haproxy-confd run --help' has an environment variable too.
set -eu
jar="${HAPROXY_CONFD_JAR:-/opt/haproxy-confd/haproxy-confd.jar}"
if [ "$#" -eq 0 ]; then
  set -- run
fi
# The default JVM options keep the daemon small: at 10,000 services it holds ~30 MB of live heap,
# but a heap sized from the machine's RAM grows to hundreds of MB before it collects (RSS 483 MB
# there against 175 MB with these; bench/run scale). Heap grows from 16 MB and gives back what it
# does not need; glibc's per-thread malloc arenas are capped. JAVA_OPTS replaces them all.
export MALLOC_ARENA_MAX="${MALLOC_ARENA_MAX:-2}"
exec java ${JAVA_OPTS:--XX:+UseSerialGC -Xss512k -XX:MaxRAMPercentage=50 -Xms16m -XX:MinHeapFreeRatio=10 -XX:MaxHeapFreeRatio=30} -jar "$jar" "$@"
