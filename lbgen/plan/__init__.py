"""The plan: frozen, sorted, resolved facts per box; the contract between build and run time.
Its models only: `lbgen.plan.build.build_plan` makes one from a spec (the LB pod never does)."""

from lbgen.plan.model import (
    AgentConfig,
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
    ResourcePlan,
    RouteGrant,
    RouterPlan,
    ServicePlan,
    Timers,
)

__all__ = [
    "AgentConfig",
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
    "ResourcePlan",
    "RouteGrant",
    "RouterPlan",
    "ServicePlan",
    "Timers",
]
