"""LB140–LB151: what the LB pods and their Kubernetes objects need to be valid and safe."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import PurePosixPath

from lbgen.diagnostics import Diagnostic, SpecPath, finding
from lbgen.spec import Fabric

_LABEL_NAME = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
STICKY_SCHEDULERS = {"mh", "sh"}


def check(fabric: Fabric) -> Iterator[Diagnostic]:
    yield from _health_checks(fabric)
    yield from _labels(fabric)
    yield from _objects(fabric)
    yield from _operations(fabric)


def _health_checks(fabric: Fabric) -> Iterator[Diagnostic]:
    for index, service in enumerate(fabric.spec.services):
        hc = service.health_check
        base: SpecPath = ("spec", "services", index, "healthCheck")
        if hc.type == "tcp":
            for field in ("path", "status"):
                if getattr(hc, field) is not None:
                    yield finding(
                        "LB140",
                        (*base, field),
                        f"`{field}` is set on a tcp health check",
                        "use `type: http` for an HTTP check, or remove it",
                    )
        elif hc.path is not None and not hc.path.startswith("/"):
            yield finding(
                "LB141",
                (*base, "path"),
                f"HTTP check path {hc.path!r} does not start with /",
                f"write it as /{hc.path}",
            )
        if hc.type == "http" and all(p.protocol == "UDP" for p in service.ports):
            yield finding(
                "LB142",
                (*base, "type"),
                "an HTTP health check needs a TCP port, and this service has only UDP ports",
                "use `type: tcp`, or leave UDP backends to Kubernetes readiness",
            )


def _label_problem(key: str, value: str) -> str | None:
    prefix, _, name = key.rpartition("/")
    if prefix and (len(prefix) > 253 or not _DNS_SUBDOMAIN.match(prefix)):
        return f"label key prefix {prefix!r} is not a DNS subdomain"
    if not _LABEL_NAME.match(name):
        return f"label key {key!r} is not a valid Kubernetes label name"
    if value and not _LABEL_NAME.match(value):
        return f"label value {value!r} is not a valid Kubernetes label value"
    return None


def _labels(fabric: Fabric) -> Iterator[Diagnostic]:
    spec = fabric.spec
    places: list[tuple[SpecPath, dict[str, str]]] = [
        (("spec", "nodes", i, "labels"), node.labels) for i, node in enumerate(spec.nodes)
    ] + [
        (("spec", "services", i, "loadBalancers", "nodeSelector"), s.load_balancers.node_selector)
        for i, s in enumerate(spec.services)
    ]
    if spec.kubernetes.monitoring is not None:
        places.append(
            (("spec", "kubernetes", "monitoring", "labels"), spec.kubernetes.monitoring.labels)
        )
    for base, labels in places:
        for key, value in labels.items():
            problem = _label_problem(key, value)
            if problem:
                yield finding(
                    "LB143",
                    (*base, key),
                    problem,
                    "label names are 63 characters at most: alphanumerics, '-', '_', '.', "
                    "starting and ending alphanumeric, with an optional DNS-subdomain prefix/",
                )


# Services Kubernetes itself owns: a LoadBalancer Service of the same name would replace them
RESERVED_SERVICES = {("default", "kubernetes"), ("kube-system", "kube-dns")}
# the Deployment `lb-<service>` names pods and is best a DNS label (63 characters)
LB_PREFIX = "lb-"
DNS_LABEL = 63


def _objects(fabric: Fabric) -> Iterator[Diagnostic]:
    for index, service in enumerate(fabric.spec.services):
        if (service.namespace, service.name) in RESERVED_SERVICES:
            yield finding(
                "LB152",
                ("spec", "services", index, "name"),
                f"Service {service.namespace}/{service.name} belongs to Kubernetes; the "
                "LoadBalancer Service lbgen writes would replace it",
                "give the fabric service another name or namespace",
            )
        if len(LB_PREFIX + service.name) > DNS_LABEL:
            yield finding(
                "LB153",
                ("spec", "services", index, "name"),
                f"the LB Deployment {LB_PREFIX}{service.name} is "
                f"{len(LB_PREFIX + service.name)} characters, over the {DNS_LABEL} of a DNS "
                "label its pods' names must fit",
                f"shorten the service's name to {DNS_LABEL - len(LB_PREFIX)} characters",
            )
        backend_ns = service.backend.namespace or service.namespace
        if service.backend.service == service.name and backend_ns == service.namespace:
            yield finding(
                "LB149",
                ("spec", "services", index, "backend", "service"),
                f"the LoadBalancer Service {service.namespace}/{service.name} that lbgen writes "
                "would replace its own backend Service of the same name",
                "rename the fabric service (it names the LoadBalancer Service), "
                "or point backend.service at the application's Service",
                ("spec", "services", index, "name"),
            )
    gitops = fabric.spec.gitops
    if gitops is not None and gitops.path is not None:
        pure = PurePosixPath(gitops.path)
        if pure.is_absolute() or ".." in pure.parts or not pure.parts:
            yield finding(
                "LB151",
                ("spec", "gitops", "path"),
                f"{gitops.path!r} is not a folder inside the repository",
                "write a relative path such as out/<name>/cluster",
            )


def _operations(fabric: Fabric) -> Iterator[Diagnostic]:
    k8s = fabric.spec.kubernetes
    if k8s.image.endswith(":latest"):
        yield finding(
            "LB144",
            ("spec", "kubernetes", "image"),
            f"image {k8s.image} is not pinned",
            "pin a version tag or a digest so every node runs the same LB",
        )
    if k8s.drain_seconds == 0:
        yield finding(
            "LB146",
            ("spec", "kubernetes", "drainSeconds"),
            "drainSeconds 0: open connections through an LB are cut the moment it stops",
            "give IPVS a few seconds to finish flows after the route is withdrawn",
        )
    for index, service in enumerate(fabric.spec.services):
        if service.load_balancers.replicas > 1 and service.scheduler not in STICKY_SCHEDULERS:
            yield finding(
                "LB145",
                ("spec", "services", index, "scheduler"),
                f"scheduler {service.scheduler} with {service.load_balancers.replicas} LBs: when "
                "an LB joins or leaves, the flows ECMP moves to another LB reach another backend",
                "use mh (the default) so every LB maps a flow to the same backend",
            )
