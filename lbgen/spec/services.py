"""The spec's services: their prefixes and ports, backends, health checks, announcement
rules and LB placement."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (
    Field,
    StringConstraints,
)

from lbgen.spec.fields import HTTP_PATH_PATTERN, AnyAddr, Ipv4Net, Ipv6Net, Model, Name, Scheduler


class Port(Model):
    name: Name
    port: Annotated[int, Field(ge=1, le=65535)]
    protocol: Literal["TCP", "UDP"] = "TCP"
    target_port: Name | None = Field(
        None, description="Name of the backend Service's port for this one; default backend.port."
    )


class Backend(Model):
    service: Name = Field(description="The Kubernetes Service whose EndpointSlices are the pool.")
    namespace: Name | None = Field(None, description="Default: the load balancer's namespace.")
    port: Name | None = Field(
        None,
        description=(
            "The backend Service's port (by name) traffic goes to; omit it for a backend "
            "Service with a single unnamed port."
        ),
    )


class HealthCheck(Model):
    type: Literal["tcp", "http"] = "tcp"
    path: Annotated[str, StringConstraints(pattern=HTTP_PATH_PATTERN)] | None = Field(
        None, description="HTTP path (type http only); default /."
    )
    status: Annotated[int, Field(ge=100, le=599)] | None = Field(
        None, description="Expected HTTP status (type http only); default 200."
    )
    connect_timeout: Annotated[int, Field(ge=1, le=3600)] = Field(2, description="Seconds.")
    interval: Annotated[int, Field(ge=1, le=3600)] = Field(2, description="Seconds between checks.")
    retries: Annotated[int, Field(ge=0, le=100)] = Field(2, description="Failures before removal.")


class Announce(Model):
    """When an LB pod announces its service's prefixes: per family, only while its own datapath
    can serve it (keepalived running, IPVS holding every VIP:port of the family with a real
    server of weight > 0, the hook alive)."""

    interval_seconds: Annotated[float, Field(ge=0.2, le=60)] = Field(
        1.0,
        description=(
            "Seconds between checks; a quarter of it while a change is pending (rise or fall)."
        ),
    )
    rise: Annotated[int, Field(ge=1, le=10)] = Field(
        2, description="Passing checks in a row before a prefix is announced."
    )
    fall: Annotated[int, Field(ge=1, le=10)] = Field(
        2, description="Failing checks in a row before a prefix is withdrawn."
    )
    hold_down_seconds: Annotated[float, Field(ge=0, le=600)] = Field(
        5.0,
        description=(
            "After a withdrawal, the least time before the prefix is announced again; doubled "
            "(up to 8 times) for each announcement that lasted less than 8 times it."
        ),
    )
    hook_stale_seconds: Annotated[float, Field(ge=1, le=600)] = Field(
        5.0,
        description=(
            "A hook silent this long (frozen or dead) is a local failure: the LB withdraws. An "
            "API server it cannot reach is not: the LB keeps serving its last pool."
        ),
    )


class LoadBalancers(Model):
    replicas: Annotated[int, Field(ge=1, le=1024)] = Field(
        2, description="LB pods for this service, each on its own node."
    )
    nodes: tuple[Name, ...] | None = Field(None, description="Only these nodes may run its LBs.")
    node_selector: dict[str, str] = Field(
        default_factory=dict, description="Only nodes with all these labels may run its LBs."
    )
    announce: Announce = Field(default_factory=Announce)


class Service(Model):
    name: Name
    namespace: Name = "default"
    prefix: Ipv4Net | None = Field(
        None,
        description="The IPv4 prefix announced over BGP for this service (needs networks.nodes).",
    )
    prefix6: Ipv6Net | None = Field(
        None,
        description=(
            "Its IPv6 prefix, alone (an IPv6 service) or beside prefix (dual-stack): announced "
            "with the node's address6 as next hop; needs networks.nodes6 and pods6."
        ),
    )
    vips: tuple[AnyAddr, ...] | None = Field(
        None,
        description=(
            "Virtual IPs inside the prefixes (IPv4 in prefix, IPv6 in prefix6); default the "
            "first host of each."
        ),
    )
    ports: tuple[Port, ...] = Field(min_length=1)
    backend: Backend
    scheduler: Scheduler = Field(
        "mh", description="IPVS scheduler; mh makes every LB pick the same backend for a flow."
    )
    health_check: HealthCheck = Field(default_factory=HealthCheck)
    load_balancers: LoadBalancers = Field(default_factory=LoadBalancers)
