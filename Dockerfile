# haproxy-confd: HAProxy kept configured from etcd or Consul.
#   ./run build && docker build -t haproxy-confd .   (or ./run image, with podman, from nothing)
#   docker run -e HAPROXY_ID=haproxy-1 -e ETCD_NODE=http://etcd:2379 -p 80:80 -p 443:443 haproxy-confd

# A Java runtime of only the modules the daemon uses (java.desktop: FreeMarker reads beans through
# java.beans), with the JDK's class-data archive; the JDK and binutils (objcopy strips the native
# libraries' debug symbols) stay in this stage.
FROM debian:12-slim AS runtime
# Slim images leave out /usr/share/man; the JDK's package links a man page there and fails without it.
RUN mkdir -p /usr/share/man/man1 \
 && apt-get update \
 && apt-get install -y --no-install-recommends openjdk-17-jdk-headless binutils \
 && jlink --output /opt/java --strip-debug --no-man-pages --no-header-files --compress=2 \
      --generate-cds-archive \
      --add-modules java.base,java.logging,java.naming,java.net.http,java.sql,java.desktop,java.xml,jdk.httpserver,jdk.unsupported,jdk.crypto.ec,jdk.naming.dns

FROM debian:12-slim AS base
# HAProxy may bind 80 and 443 as the daemon's user; the tool that grants it is removed again.
# The user has a fixed UID and GID, 10080, so that a mounted state directory can be prepared for it
# (chown 10080:10080, mode 0750), and no home of dotfiles.
RUN apt-get update \
 && apt-get install -y --no-install-recommends haproxy libcap2-bin \
 && setcap 'cap_net_bind_service=+ep' /usr/sbin/haproxy \
 && apt-get purge -y --auto-remove libcap2-bin \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10080 haproxy-confd \
 && useradd --system --uid 10080 --gid 10080 --no-create-home --home-dir /var/lib/haproxy-confd \
      --shell /usr/sbin/nologin haproxy-confd \
 && install -d -m 0750 -o 10080 -g 10080 /var/lib/haproxy-confd
COPY --from=runtime /opt/java /opt/java
# Third-party jars change less often than this project's: they are a layer of their own.
COPY app/target/image/libraries/ /opt/haproxy-confd/lib/
COPY app/target/image/app/ /opt/haproxy-confd/lib/
COPY app/src/main/docker/entrypoint.sh /usr/local/bin/haproxy-confd
COPY app/src/main/docker/healthcheck.sh /usr/local/bin/haproxy-confd-healthcheck
ENV PATH=/opt/java/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    STATE_DIR=/var/lib/haproxy-confd \
    ADMIN_ADDRESS=0.0.0.0:9180

# The class-data archive the entrypoint starts the daemon with (about half a second sooner at every
# start):
# made by running the daemon once, on exactly the runtime and jars above, against an etcd of its
# own on loopback. etcd and curl stay in this stage.
FROM base AS cds
RUN apt-get update \
 && apt-get install -y --no-install-recommends etcd-server etcd-client curl
COPY app/src/main/docker/cds-train /usr/local/bin/haproxy-confd-cds-train
RUN haproxy-confd-cds-train /opt/haproxy-confd/lib/haproxy-confd-app.jar \
      /opt/haproxy-confd/lib/haproxy-confd-app.jsa

FROM base
COPY --from=cds /opt/haproxy-confd/lib/haproxy-confd-app.jsa /opt/haproxy-confd/lib/
USER 10080:10080
EXPOSE 80 443 1000 9180
HEALTHCHECK --interval=10s --timeout=3s CMD ["/usr/local/bin/haproxy-confd-healthcheck"]
ENTRYPOINT ["/usr/local/bin/haproxy-confd"]
CMD ["run"]
