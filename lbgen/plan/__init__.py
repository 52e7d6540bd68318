"""The plan: frozen, sorted, resolved facts per box; the contract between build and run time."""

from lbgen.plan.build import build_plan
from lbgen.plan.model import (
    BackendPlan,
    GitOpsPlan,
    HealthCheckPlan,
    KubePlan,
    NodePlan,
    Peer,
    Plan,
    PodConfig,
    PortPlan,
    ReflectorPlan,
    RouterPlan,
    ServicePlan,
    Timers,
)

__all__ = [
    "BackendPlan",
    "GitOpsPlan",
    "HealthCheckPlan",
    "KubePlan",
    "NodePlan",
    "Peer",
    "Plan",
    "PodConfig",
    "PortPlan",
    "ReflectorPlan",
    "RouterPlan",
    "ServicePlan",
    "Timers",
    "build_plan",
]
