"""The `lbgen.io/v1alpha1` `Fabric` spec: shape and types; cross-field rules live in checks/.
Its parts: fields.py (types, patterns, the base model), boxes.py (routers, reflectors, nodes),
services.py; here the Kubernetes and GitOps settings and the spec as a whole."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Literal

from pydantic import (
    Field,
    StringConstraints,
)

from lbgen.spec.boxes import BgpTimers, Metadata, Networks, Node, Reflector, Router
from lbgen.spec.fields import (
    GIT_URL_PATTERN,
    IMAGE_PATTERN,
    NO_SPACE_PATTERN,
    QUANTITY_PATTERN,
    REPO_PATH_PATTERN,
    Asn,
    Model,
    Name,
)
from lbgen.spec.services import Service

Quantity = Annotated[str, StringConstraints(pattern=QUANTITY_PATTERN)]
Image = Annotated[str, StringConstraints(pattern=IMAGE_PATTERN)]


class ContainerResources(Model):
    cpu: Quantity | None = Field(None, description="CPU request; default lbgen's measured one.")
    memory: Quantity | None = Field(
        None, description="Memory request and limit; default lbgen's measured peak + 30 %."
    )


class Resources(Model):
    """Per container; each default comes from the peak RSS bench/memory.py measured."""

    setup: ContainerResources = Field(default_factory=ContainerResources)
    keepalived: ContainerResources = Field(default_factory=ContainerResources)
    exabgp: ContainerResources = Field(default_factory=ContainerResources)
    hook: ContainerResources = Field(default_factory=ContainerResources)
    agent: ContainerResources = Field(
        default_factory=ContainerResources, description="The node agent's container."
    )


class Monitoring(Model):
    """A PodMonitor and a PrometheusRule for the Prometheus Operator (kube-prometheus), in
    cluster/fabric/monitoring.yaml."""

    labels: dict[str, str] = Field(
        default_factory=dict,
        description=(
            "Labels on both objects, for the Prometheus that selects them (kube-prometheus-"
            "stack's: release: <its Helm release>)."
        ),
    )


class Kubernetes(Model):
    namespace: Name = Field("lbgen-system", description="Where LB pods and the node agent run.")
    image: Image = Field(
        "localhost/lbgen:0.1.0",
        description=(
            "Image with keepalived, exabgp and lbgen. image/build.sh builds localhost/lbgen:"
            "<version>; push it to your registry and name that copy here."
        ),
    )
    image_pull_policy: Literal["IfNotPresent", "Always", "Never"] = "IfNotPresent"
    drain_seconds: Annotated[int, Field(ge=0, le=3600)] = Field(
        10,
        description=(
            "After the route is withdrawn, how long IPVS keeps serving open flows, and how "
            "long routers with resilientEcmp via router-fib keep sending a leaving LB its own."
        ),
    )
    resources: Resources = Field(default_factory=Resources)
    metrics_namespace: Name = Field(
        "monitoring",
        description="The only namespace whose pods may scrape the LB pods' metrics port.",
    )
    conntrack_max: Annotated[int, Field(ge=65536, le=67108864)] = Field(
        1048576, description="net.netfilter.nf_conntrack_max on nodes (IPVS NAT tracks every flow)."
    )
    monitoring: Monitoring | None = Field(
        None,
        description=(
            "Write a PodMonitor (the LB pods' metrics port) and a PrometheusRule (an LB not "
            "announcing, a BGP session down, a stale pool, a silent announcer)."
        ),
    )


class GitOps(Model):
    repo_url: Annotated[str, StringConstraints(pattern=GIT_URL_PATTERN)] = Field(
        description="The git repository Argo CD / Flux read out/ from."
    )
    revision: Annotated[str, StringConstraints(min_length=1, pattern=NO_SPACE_PATTERN)] = "main"
    path: Annotated[str, StringConstraints(pattern=REPO_PATH_PATTERN)] | None = Field(
        None, description="Folder of cluster/ in the repo; default out/<name>/cluster."
    )
    argocd_namespace: Name = "argocd"
    flux_namespace: Name = "flux-system"


class FabricSpec(Model):
    asn: Asn = Field(description="The AS of the reflectors and LBs (and of iBGP routers).")
    networks: Networks
    bgp: BgpTimers = Field(default_factory=BgpTimers)
    routers: tuple[Router, ...] = Field(min_length=1)
    reflectors: tuple[Reflector, ...] = Field(min_length=1)
    nodes: tuple[Node, ...] = Field(min_length=1)
    services: tuple[Service, ...] = ()
    kubernetes: Kubernetes = Field(default_factory=Kubernetes)
    gitops: GitOps | None = None

    def boxes(self) -> Iterator[tuple[str, int, Router | Reflector | Node]]:
        """Every router, reflector and node: (its list in the spec, its index there, it)."""
        for group in ("routers", "reflectors", "nodes"):
            for index, box in enumerate(getattr(self, group)):
                yield group, index, box


class Fabric(Model):
    """One site's load-balancer fabric."""

    api_version: Literal["lbgen.io/v1alpha1"]
    kind: Literal["Fabric"]
    metadata: Metadata
    spec: FabricSpec
