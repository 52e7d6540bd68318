"""The Kubernetes API through a client of lbgen's own (client.py: list, watch, read and patch a
Service's status, on urllib3), the only way the runtime reaches the API server; watch.py follows
a resource kind, serving.py answers the kubelet's probes and Prometheus."""
