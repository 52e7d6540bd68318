"""What the testbed runs in place of the real thing, each with `python -m`: the Kubernetes API
server (apiserver), keepalived where the kernel has no IPVS (keepalived), the backends
(backend)."""
