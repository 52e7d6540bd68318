"""The LB pod's containers, one function each: setup (the init container), keepalived, exabgp
and the hook, with their commands, environment, probes, resources and users."""

from __future__ import annotations

from typing import Any

from lbgen.contract import (
    ANNOUNCE_STATUS,
    BGP_PASSWORD_DIR,
    CHECKERS_PID,
    CONFIG_DIR,
    EXABGP,
    EXABGP_PID,
    HOOK,
    HOOK_PORT,
    KEEPALIVED,
    KEEPALIVED_CONF,
    KEEPALIVED_PID,
    LB_CONFIG,
    NODES_DIR,
    RUN_DIR,
    SERVICE_ACCOUNT_DIR,
    SETUP,
)
from lbgen.plan import ServicePlan
from lbgen.render.k8s.common import (
    exec_probe,
    http_probe,
    lbgen,
    resources,
    security,
)

# seconds IPVS outlives the route when the drain ends with the withdrawal
DRAIN_MARGIN = 2

# the pod's volumes the containers mount (lb.py declares them)
API_ACCESS = "api-access"
BGP_PASSWORDS = "bgp-passwords"
NODES = "nodes"

CONFIG_ARGS = ("--config", str(LB_CONFIG))


def _downward_env() -> list[dict[str, Any]]:
    return [
        {"name": "POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
        {"name": "NODE_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.hostIP"}}},
        {"name": "NODE_NAME", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}},
    ]


def _container(service: ServicePlan, name: str, command: list[str]) -> dict[str, Any]:
    kube = service.kube
    return {
        "name": name,
        "image": kube.image,
        "imagePullPolicy": kube.image_pull_policy,
        "command": command,
        "resources": resources(kube, name),
        "volumeMounts": [
            {"name": "config", "mountPath": str(CONFIG_DIR), "readOnly": True},
            {"name": "run", "mountPath": str(RUN_DIR)},
        ],
    }


def setup_container(service: ServicePlan) -> dict[str, Any]:
    return {
        **_container(service, SETUP, lbgen("pod", "setup", *CONFIG_ARGS)),
        "env": _downward_env(),
        # route the prefix as local and masquerade IPVS traffic: netfilter and routes only
        "securityContext": security(add=("NET_ADMIN",), root=True),
    }


def keepalived_container(service: ServicePlan) -> dict[str, Any]:
    command = [
        "keepalived",
        "--dont-fork",
        "--log-console",
        "--log-detail",
        "--check",
        f"--use-file={KEEPALIVED_CONF}",
        f"--pid={KEEPALIVED_PID}",
        f"--checkers_pid={CHECKERS_PID}",
    ]
    # a drain that keeps announcing (resilient routers) ends with the withdrawal: IPVS serves
    # a little longer, for the packets the router sent before its FIB changed
    kube = service.kube
    seconds = kube.drain_seconds + (DRAIN_MARGIN if kube.withdraw_after else 0)
    drain = lbgen("pod", "drain", "--seconds", str(seconds))
    return {
        **_container(service, KEEPALIVED, command),
        "livenessProbe": exec_probe(
            lbgen("pod", "check", "alive", "--pidfile", str(KEEPALIVED_PID)), 10, 3
        ),
        # keep IPVS serving open flows while the route is withdrawn and drains
        "lifecycle": {"preStop": {"exec": {"command": drain}}},
        "securityContext": security(add=("NET_ADMIN",), root=True),
    }


def exabgp_container(service: ServicePlan) -> dict[str, Any]:
    withdraw = lbgen("pod", "withdraw", "--pidfile", str(EXABGP_PID))
    if service.kube.withdraw_after:
        withdraw = [*withdraw, "--after", str(service.kube.withdraw_after)]
    container = _container(service, EXABGP, lbgen("pod", "exabgp", *CONFIG_ARGS))
    if service.bgp_secrets:
        passwords = {"name": BGP_PASSWORDS, "mountPath": str(BGP_PASSWORD_DIR), "readOnly": True}
        container["volumeMounts"] = [*container["volumeMounts"], passwords]
    if service.prefix6 is not None:
        nodes = {"name": NODES, "mountPath": str(NODES_DIR), "readOnly": True}
        container["volumeMounts"] = [*container["volumeMounts"], nodes]
    return {
        **container,
        "env": _downward_env(),
        "readinessProbe": exec_probe(lbgen("pod", "check", "ready", *CONFIG_ARGS), 2, 1),
        # exabgp runs, and so does its announcer (a stuck one would freeze the announcements)
        "livenessProbe": exec_probe(
            lbgen(
                "pod",
                "check",
                "alive",
                "--pidfile",
                str(EXABGP_PID),
                "--beat",
                str(ANNOUNCE_STATUS),
                "--stale",
                _announcer_stale(service),
            ),
            10,
            3,
        ),
        # hash-threshold routers: withdraw the route first (~0.1 s, the session closes), so new
        # flows go elsewhere; resilient ones: after the drain (the LB keeps its own flows)
        "lifecycle": {"preStop": {"exec": {"command": withdraw}}},
        "securityContext": security(add=(), root=False),
    }


def _announcer_stale(service: ServicePlan) -> str:
    """How old the announcer's status may be (it writes it at every check) before exabgp's
    liveness fails: 30 s, or 4 checks if they are further apart."""
    return f"{max(30, 4 * service.announce.interval):g}"


def hook_container(service: ServicePlan) -> dict[str, Any]:
    container = _container(service, HOOK, lbgen("hook", *CONFIG_ARGS))
    token = {"name": API_ACCESS, "mountPath": str(SERVICE_ACCOUNT_DIR), "readOnly": True}
    return {
        **container,
        "volumeMounts": [*container["volumeMounts"], token],
        "ports": [{"name": "metrics", "containerPort": HOOK_PORT, "protocol": "TCP"}],
        "readinessProbe": http_probe("/readyz", 2, 1),
        "livenessProbe": http_probe("/healthz", 10, 3),
        # root like keepalived, whose config it replaces and which it SIGHUPs: no capability
        "securityContext": security(add=(), root=True),
    }
