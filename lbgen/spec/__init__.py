"""Input models of a fabric spec: only what the user writes, validated for type and shape."""

from lbgen.spec.model import (
    API_VERSION,
    Backend,
    BgpTimers,
    Fabric,
    FabricSpec,
    HealthCheck,
    LoadBalancers,
    Metadata,
    Networks,
    Node,
    Port,
    Reflector,
    Router,
    Service,
)

__all__ = [
    "API_VERSION",
    "Backend",
    "BgpTimers",
    "Fabric",
    "FabricSpec",
    "HealthCheck",
    "LoadBalancers",
    "Metadata",
    "Networks",
    "Node",
    "Port",
    "Reflector",
    "Router",
    "Service",
]
