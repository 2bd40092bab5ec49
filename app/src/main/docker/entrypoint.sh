#!/bin/bash
# The image's entrypoint, also run directly by the end-to-end tests and ./run demo.
# bash, not sh: Debian's sh (dash) drops variables whose names hold a hyphen, and the seed
# image's README sets HAPROXY-ID.
# It honours the seed image's environment: HAPROXY_ID (or HAPROXY-ID), ETCD_NODE, DNS_SERVERS,
# STATS_PASSWORD; every flag of 'haproxy-confd run --help' has an environment variable too.
set -eu
jar="${HAPROXY_CONFD_JAR:-/opt/haproxy-confd/lib/haproxy-confd-app.jar}"
# Absolute: the class-data archive (below) records the jar's path as its training run named it, and
# the JVM finds a relative one only from that same directory.
case "$jar" in /*) ;; *) jar="$PWD/$jar" ;; esac
say() { echo "haproxy-confd: $*" >&2; }
# The seed image polled with confd: its setting and confd's own flags (-interval=10, -onetime,
# -node ..., -backend=etcd) mean nothing here. Accept them, say so once, and go on.
if [ -n "${BACKEND_POLLING_INTERVAL:-}" ]; then
  say "ignoring BACKEND_POLLING_INTERVAL=$BACKEND_POLLING_INTERVAL: changes are watched, not polled"
fi
kept=""
skip_value=0
for arg in "$@"; do
  if [ "$skip_value" -eq 1 ]; then
    skip_value=0
    continue
  fi
  case "$arg" in
    -interval|-node|-backend|-prefix|-confdir|-config-file|-log-level|-client-cert|-client-key|-client-ca-keys|-scheme|-srv-domain|-srv-record)
      say "ignoring confd's flag $arg and its value: haproxy-confd takes its settings from the environment"
      skip_value=1 ;;
    -interval=*|-node=*|-backend=*|-prefix=*|-confdir=*|-config-file=*|-log-level=*|-onetime|-onetime=*|-watch|-watch=*|-noop|-noop=*|-keep-stage-file|-sync-only|-client-cert=*|-client-key=*|-client-ca-keys=*|-scheme=*|-srv-domain=*|-srv-record=*)
      say "ignoring confd's flag $arg: haproxy-confd takes its settings from the environment" ;;
    *) kept="$kept $(printf "'%s'" "$(printf '%s' "$arg" | sed "s/'/'\\\\''/g")")" ;;
  esac
done
eval "set -- $kept"
if [ "$#" -eq 0 ]; then
  set -- run
fi
# The default JVM options keep the daemon small: at 10,000 services it holds ~45 MB of live heap,
# but a heap sized from the machine's RAM grows to hundreds of MB before it collects (RSS 483 MB
# there against ~220 MB with these; bench/run scale). Heap starts at 96 MB and grows past it only as
# needed, keeping a quarter to a half free: with less, full collections of ~70 ms came every few
# seconds of changes and made the slowest changes slow. From 16 MB, it grew through four full
# collections (0.3 s) in a start at 10,000 services. Survivor spaces are a sixth of the young
# generation each, and may fill to 80%: at the default (a tenth, half full) the 1-3 MB a change
# leaves alive overflowed them, was promoted at once, and a full collection (~100 ms) came every
# 20-60 s of changes; now what a change leaves dies young. Compressed object pointers are asked for,
# so that on a host of 64 GB or more the heap's cap stays under 32 GB instead of turning them off
# (and with them the class-data archives below). glibc's per-thread malloc arenas are capped.
# Only the quick compiler (C1), never the optimising one (C2): on two cores, C2 and the profiling
# that feeds it took most of a core through the first pass. Without them a start at 10,000 services
# took 0.79x as long (bench/run scale start), and a change less CPU, C2's compiles no longer among
# it (23-30 ms against 38 ms; bench/run scale), for a median 1-2 ms slower.
# JAVA_OPTS replaces these options; its own come after the archive's and the log's, and win.
export MALLOC_ARENA_MAX="${MALLOC_ARENA_MAX:-2}"
# Class-data sharing: the classes a start loads, mapped from an archive cds-train made for this jar
# and this Java runtime (about half a second sooner at every start). An archive older than the jar
# was made for another build and is left alone (the JVM would refuse it too). CDS_TRAINING (cds-train's)
# writes one at exit instead.
cds=()
archive="${jar%.jar}.jsa"
if [ -n "${CDS_TRAINING:-}" ]; then
  cds=("-XX:ArchiveClassesAtExit=$CDS_TRAINING")
elif [ -r "$archive" ] && ! [ "$jar" -nt "$archive" ]; then
  cds=("-XX:SharedArchiveFile=$archive")
fi
# The JVM's own warnings go to standard error with the daemon's log, not into the access log.
exec java "${cds[@]}" -Xlog:disable -Xlog:all=warning:stderr ${JAVA_OPTS:--XX:+UseSerialGC -XX:TieredStopAtLevel=1 -XX:+UseCompressedOops -Xss512k -XX:MaxRAMPercentage=50 -Xms96m -XX:MinHeapFreeRatio=25 -XX:MaxHeapFreeRatio=50 -XX:SurvivorRatio=4 -XX:TargetSurvivorRatio=80} -jar "$jar" "$@"
