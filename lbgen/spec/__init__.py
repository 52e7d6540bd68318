"""Input models of a fabric spec: only what the user writes, validated for type and shape."""

from lbgen.spec.boxes import BgpTimers, Metadata, Networks, Node, Reflector, Router
from lbgen.spec.fields import API_VERSION
from lbgen.spec.model import Fabric, FabricSpec, GitOps, Kubernetes, Resources
from lbgen.spec.services import Backend, HealthCheck, LoadBalancers, Port, Service

__all__ = [
    "API_VERSION",
    "Backend",
    "BgpTimers",
    "Fabric",
    "FabricSpec",
    "GitOps",
    "HealthCheck",
    "Kubernetes",
    "LoadBalancers",
    "Metadata",
    "Networks",
    "Node",
    "Port",
    "Reflector",
    "Resources",
    "Router",
    "Service",
]
