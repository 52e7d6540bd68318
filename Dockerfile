# The LB image for builders that have a Docker engine. image/build.sh builds the same image from
# Debian's packages without one (and is what CI builds and tests): keepalived, exabgp, ipvsadm,
# iproute2, nftables, python3; lbgen with its runtime extra in /opt/lbgen; user 65532.
# Build: docker build -t <registry>/lbgen:0.1.0 . && docker push <registry>/lbgen:0.1.0
FROM debian:bookworm-slim

RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      keepalived exabgp ipvsadm iproute2 nftables python3 python3-venv ca-certificates \
 && rm -rf /var/lib/apt/lists/*

COPY pyproject.toml README.md /src/
COPY lbgen /src/lbgen
RUN python3 -m venv /opt/lbgen \
 && /opt/lbgen/bin/pip install --no-cache-dir '/src[runtime]' \
 && /opt/lbgen/bin/pip uninstall --yes pip setuptools \
 && ln -s /opt/lbgen/bin/lbgen /usr/local/bin/lbgen \
 && rm -rf /src \
 && echo 'lbgen:x:65532:65532:lbgen:/nonexistent:/usr/sbin/nologin' >> /etc/passwd \
 && echo 'lbgen:x:65532:' >> /etc/group \
 && mkdir -p /etc/lbgen /run/lbgen

# exabgp runs as this user (the pod's securityContext); keepalived and setup run as root with
# NET_ADMIN only
USER 65532
ENTRYPOINT ["lbgen"]
