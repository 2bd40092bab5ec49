# haproxy-confd: HAProxy kept configured from etcd or Consul.
#   ./run build && docker build -t haproxy-confd .   (or ./run image, with podman, from nothing)
#   docker run -e HAPROXY_ID=haproxy-1 -e ETCD_NODE=http://etcd:2379 -p 80:80 -p 443:443 haproxy-confd
FROM debian:12-slim
# Slim images leave out /usr/share/man; the JRE's package links a man page there and fails without it.
RUN mkdir -p /usr/share/man/man1 \
 && apt-get update \
 && apt-get install -y --no-install-recommends openjdk-17-jre-headless haproxy ca-certificates libcap2-bin \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --home /var/lib/haproxy-confd --create-home haproxy-confd \
 && setcap 'cap_net_bind_service=+ep' /usr/sbin/haproxy
COPY app/target/haproxy-confd.jar /opt/haproxy-confd/haproxy-confd.jar
COPY app/src/main/docker/entrypoint.sh /usr/local/bin/haproxy-confd
USER haproxy-confd
ENV STATE_DIR=/var/lib/haproxy-confd ADMIN_ADDRESS=0.0.0.0:9180
EXPOSE 80 443 1000 9180
HEALTHCHECK --interval=10s --timeout=2s CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/9180"]
ENTRYPOINT ["/usr/local/bin/haproxy-confd"]
CMD ["run"]
