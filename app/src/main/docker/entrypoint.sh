#!/bin/sh
# The image's entrypoint, also run directly by the end-to-end tests and ./run demo.
# It honours the seed image's environment: HAPROXY_ID (or HAPROXY-ID), ETCD_NODE, DNS_SERVERS,
# STATS_PASSWORD; every flag of 'haproxy-confd run --help' has an environment variable too.
set -eu
jar="${HAPROXY_CONFD_JAR:-/opt/haproxy-confd/haproxy-confd.jar}"
if [ "$#" -eq 0 ]; then
  set -- run
fi
exec java ${JAVA_OPTS:--XX:+UseSerialGC -Xss512k -XX:MaxRAMPercentage=50} -jar "$jar" "$@"
