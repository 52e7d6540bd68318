# The image every LB pod and node agent runs (spec.kubernetes.image): keepalived drives IPVS,
# exabgp announces the service prefix, lbgen renders their configs and runs the pod's steps.
# Build: docker build -t ghcr.io/lbgen/lbgen:0.1.0 .
FROM debian:bookworm-slim

RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      keepalived exabgp ipvsadm iproute2 nftables python3 python3-venv ca-certificates \
 && rm -rf /var/lib/apt/lists/*

COPY pyproject.toml README.md /src/
COPY lbgen /src/lbgen
RUN python3 -m venv /opt/lbgen \
 && /opt/lbgen/bin/pip install --no-cache-dir /src \
 && ln -s /opt/lbgen/bin/lbgen /usr/local/bin/lbgen \
 && rm -rf /src

# exabgp runs as this user (the pod's securityContext); keepalived and setup run as root with
# NET_ADMIN only
RUN useradd --system --uid 65532 --home-dir /nonexistent --shell /usr/sbin/nologin lbgen
USER 65532
ENTRYPOINT ["lbgen"]
