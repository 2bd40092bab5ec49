#!/bin/bash
# The image's HEALTHCHECK: asks the daemon's /healthz on ADMIN_ADDRESS, the address it listens on
# (0.0.0.0 or :: are asked on loopback). bash's /dev/tcp, so that the image needs no HTTP client.
set -u
address="${ADMIN_ADDRESS:-127.0.0.1:9180}"
host="${address%:*}"
port="${address##*:}"
host="${host#[}"
host="${host%]}"
case "$host" in
  0.0.0.0 | "") host=127.0.0.1 ;;
  :: | ::0) host=::1 ;;
esac
if ! { exec 3<>"/dev/tcp/$host/$port"; } 2>/dev/null; then
  echo "haproxy-confd: nothing listens on the admin address $address" >&2
  exit 1
fi
printf 'GET /healthz HTTP/1.0\r\nHost: %s\r\n\r\n' "$address" >&3
IFS=' ' read -r -t 2 _ status _ <&3 || status=none
if [ "$status" != 200 ]; then
  echo "haproxy-confd: /healthz on $address answered ${status}" >&2
  exit 1
fi
