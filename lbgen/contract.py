"""The LB pod's file contract, written once: where its files are, what its containers are
called, which sysctls it needs. The renderer (build time) and the runtime (in the pod) both
import this; it imports nothing, so a probe pays nothing for it."""

from __future__ import annotations

from pathlib import PurePosixPath

CONFIG_DIR = PurePosixPath("/etc/lbgen")  # the ConfigMap: lb.json, keepalived.conf (read-only)
RUN_DIR = PurePosixPath("/run/lbgen")  # the pod's emptyDir: live configs and pid files

LB_CONFIG_NAME = "lb.json"
KEEPALIVED_CONF_NAME = "keepalived.conf"
LB_CONFIG = CONFIG_DIR / LB_CONFIG_NAME
AGENT_CONFIG_NAME = "node-agent.json"
AGENT_CONFIG = CONFIG_DIR / AGENT_CONFIG_NAME
# on a router with resilientEcmp via router-fib: lbgen router-fib's config, and its systemd unit
ROUTER_FIB_CONFIG_NAME = "router-fib.json"
ROUTER_FIB_CONFIG = CONFIG_DIR / ROUTER_FIB_CONFIG_NAME
ROUTER_FIB_UNIT_NAME = "lbgen-router-fib.service"
STARTING_KEEPALIVED_CONF = CONFIG_DIR / KEEPALIVED_CONF_NAME
# the fabric's one nodes.json (each node's IPv6 next hop), mounted in the LB pods of IPv6
# services; kept apart so a node change does not roll every LB
NODES_DIR = PurePosixPath("/etc/lbgen-nodes")
NODES_CONFIG_NAME = "nodes.json"
NODES_CONFIG = NODES_DIR / NODES_CONFIG_NAME
KEEPALIVED_CONF = RUN_DIR / KEEPALIVED_CONF_NAME
KEEPALIVED_PID = RUN_DIR / "keepalived.pid"
CHECKERS_PID = RUN_DIR / "checkers.pid"
EXABGP_CONF = RUN_DIR / "exabgp.conf"
EXABGP_PID = RUN_DIR / "exabgp.pid"
# the hook's heartbeat and the virtual servers it configured (lbgen.runtime.pod.health reads it)
HOOK_STATUS = RUN_DIR / "hook.json"
# what the announcer (exabgp's process) decided: per family, and each reflector's session
ANNOUNCE_STATUS = RUN_DIR / "announce.json"
# the kernel's IPVS table in the pod's netns; LBGEN_IPVS_TABLE names a stand-in's (the testbed
# on a kernel without IPVS)
IPVS_TABLE = PurePosixPath("/proc/net/ip_vs")
IPVS_TABLE_ENV = "LBGEN_IPVS_TABLE"
# where a container finds its ServiceAccount's token, CA and namespace (only the hook's has them)
SERVICE_ACCOUNT_DIR = PurePosixPath("/var/run/secrets/kubernetes.io/serviceaccount")
# beside a router's or reflector's frr.conf in out/: which password file each session uses
BOX_PASSWORDS_NAME = "passwords.json"
# where exabgp finds each reflector's TCP-MD5 password: a file named after the reflector,
# projected from a Secret into its container only
BGP_PASSWORD_DIR = PurePosixPath("/var/run/secrets/lbgen.io/bgp")

SETUP, KEEPALIVED, EXABGP, HOOK = "setup", "keepalived", "exabgp", "hook"
NODE_AGENT = "agent"
HOOK_PORT = 9153
AGENT_PORT = 9154  # the node agent's /healthz and /metrics, on the node's address
NON_ROOT_UID = 65532

# namespaced sysctls IPVS NAT needs in the LB pod's own netns; the kubelet must allow them
# (allowedUnsafeSysctls: net.ipv4.ip_forward, net.ipv4.vs.*) since they are not "safe" ones
POD_SYSCTLS = (
    ("net.ipv4.ip_forward", "1"),
    ("net.ipv4.vs.conn_reuse_mode", "0"),  # else SYNs reusing a TIME_WAIT port are dropped
    ("net.ipv4.vs.conntrack", "1"),  # netfilter sees IPVS flows, so they can be masqueraded
    # 0: a real server taken out and put back (lbgen.runtime.hook.order) keeps its connections; a
    # backend removed for good has no connections left worth a reset (it drained first)
    ("net.ipv4.vs.expire_nodest_conn", "0"),
)
# and a dual-stack service's: IPVS forwards its IPv6 VIPs' traffic to IPv6 backends
POD_SYSCTLS6 = (("net.ipv6.conf.all.forwarding", "1"),)

# container → (CPU request, memory request = limit). Memory: the peak bench/memory.py measured
# for the processes that run in that container at once (docs/benchmarks.md, "Memory") × 1.3,
# rounded up to a multiple of 8 MiB that leaves at least 2 MiB more. The hook's is at 10,000
# endpoints with its `keepalived -t` child.
DEFAULT_RESOURCES = {
    SETUP: ("50m", "48Mi"),  # peak 30.4 MiB
    KEEPALIVED: ("100m", "72Mi"),  # 52.4 MiB (the daemon estimated: no IPVS in CI's kernel)
    EXABGP: ("100m", "96Mi"),  # 69.6 MiB: exabgp, its announcer and both probes
    HOOK: ("100m", "112Mi"),  # 82.9 MiB at 10k endpoints
    NODE_AGENT: ("50m", "56Mi"),  # 37.1 MiB routing 200 LB pods, with its probes server
}
# lbgen router-fib: its rules' priority (before the main table's 32766), and how long marked
# packets keep using its table after its last heartbeat
ROUTER_FIB_RULE_PRIORITY = 10042
ROUTER_FIB_LEASE_MS = 1000
# the kernel protocol of the routes router-fib follows (/etc/iproute2/rt_protos): zebra's (FRR,
# gobgpd + zebra) and BIRD's
RTPROT_BGP, RTPROT_BIRD = 186, 12
# router-fib's niceness (its unit's Nice=, the testbed's `nice`): its lease must not lapse under
# load (in the VM, at nice 0, 102 packets went by zebra's route during one rollout)
ROUTER_FIB_NICE = -10
