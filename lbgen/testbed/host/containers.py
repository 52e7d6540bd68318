"""LB pods as their compiled Deployment describes them: their volumes laid out in the work
folder, each container's command run in the pod's namespace with its env and mounts (in the
image's root filesystem as the container's user, when the testbed has one), the kubelet's exec
probes and preStop hooks run inside them, and their readiness."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from lbgen.contract import EXABGP, HOOK_PORT, KEEPALIVED_CONF_NAME, NON_ROOT_UID
from lbgen.errors import LbgenError
from lbgen.testbed.clients.asking import http
from lbgen.testbed.host.netns import apply_sysctls, inside
from lbgen.testbed.host.secrets import secret_file
from lbgen.testbed.model.pods import Container, environment, pod_spec
from lbgen.testbed.model.shapes import LbPod, url_host


def ipvs_in_kernel() -> bool:
    return Path("/proc/net/ip_vs").exists()


@dataclass(frozen=True)
class PodRunner:
    tree: dict[str, str]
    workdir: Path
    rootfs: Path | None = None

    def lay_out(self, lb: LbPod) -> None:
        """The pod's volumes: its ConfigMap's files, and the emptyDir the setup container
        fills with keepalived's starting config."""
        spec = pod_spec(self.tree, lb.service)
        folder = self.workdir / lb.box.netns
        write_configmaps(self.tree, spec.configmaps, folder)
        for volume in spec.empty_dirs:
            (folder / volume).mkdir(parents=True, exist_ok=True)
            # the pod's fsGroup: its non-root containers write here too
            os.chown(folder / volume, 0, NON_ROOT_UID)
            (folder / volume).chmod(0o2775)
        for volume, items in spec.secrets.items():
            # as the kubelet projects a Secret: the pod's group may read (defaultMode 0440)
            (folder / volume).mkdir(parents=True, exist_ok=True)
            for name, (secret, key) in items.items():
                target = folder / volume / name
                shutil.copyfile(secret_file(self.workdir, secret, key), target)
                os.chown(target, 0, NON_ROOT_UID)
                target.chmod(0o440)
        for volume in spec.projected:
            account = folder / volume
            account.mkdir(parents=True, exist_ok=True)
            (account / "token").write_text("testbed: its API asks for no token\n")
            (account / "namespace").write_text("lbgen-system\n")
            (account / "ca.crt").write_text("")
        config = next(iter(spec.configmaps))
        shutil.copyfile(
            folder / config / KEEPALIVED_CONF_NAME, folder / "run" / KEEPALIVED_CONF_NAME
        )

    def initialize(self, lb: LbPod) -> None:
        """What happens before a pod's containers start: its sysctls set in its namespace (as
        the kubelet does from securityContext.sysctls), then each init container run to the
        end, in order; one that fails stops the pod, as its kubelet would keep it Init:Error."""
        spec = pod_spec(self.tree, lb.service)
        skipped = apply_sysctls(lb.box.netns, dict(spec.sysctls))
        if skipped:
            raise LbgenError(f"{lb.box.name}: the kernel refused the sysctls {', '.join(skipped)}")
        for name in spec.init:
            done = self.run(lb, name, timeout=300)
            if done.returncode != 0:
                raise LbgenError(
                    f"{lb.box.name}: init container {name} failed: {done.stderr.strip()[-800:]}"
                )

    def container(self, lb: LbPod, name: str) -> Container:
        return next(c for c in pod_spec(self.tree, lb.service).containers if c.name == name)

    def hooks(self, lb: LbPod, name: str) -> dict[str, tuple[str, ...]]:
        """A container's exec probes and preStop hook, as its Deployment says."""
        return dict(self.container(lb, name).probes)

    def argv(
        self,
        lb: LbPod,
        name: str,
        command: tuple[str, ...] | None = None,
        extra_env: dict[str, str] | None = None,
    ) -> tuple[list[str], dict[str, str]]:
        """How to run a container (or `command` inside it): its command, downward-API env,
        volumes at their mountPaths in a private mount namespace, in the pod's netns."""
        container = self.container(lb, name)
        folder = self.workdir / lb.box.netns
        binds = [(str(folder / volume), path) for volume, path in container.mounts]
        facts = {"pod_ip": str(lb.box.main), "node_ip": str(lb.node_address), "node": lb.node}
        env = {**environment(container, facts), **(extra_env or {})}
        run = command or container.command
        if self.rootfs is not None:
            script = image_script(str(self.rootfs), binds, run, env, container.user)
            env = {}
        else:
            script = mount_script(binds, str(folder / "overlay" / name), run)
            # `lbgen` as installed beside the Python running the testbed
            env["PATH"] = f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}"
        unshare = ("unshare", "--mount", "--propagation", "private", "sh", "-c", script)
        return inside(lb.box.netns, *unshare), env

    def run(
        self,
        lb: LbPod,
        name: str,
        command: tuple[str, ...] | None = None,
        timeout: float = 60,
        env: dict[str, str] | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """Run `command` inside a container, as the kubelet runs probes and hooks (or the
        container's own command, to its end: an init container)."""
        argv, extra = self.argv(lb, name, command, env)
        return subprocess.run(
            argv,
            env={**os.environ, **extra},
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def problems(self, lb: LbPod, env: dict[str, str] | None = None) -> list[str]:
        """Why the pod is not ready, by its own readiness probes: the exabgp container's exec
        probe (run inside it, with `env`: the stand-in's IPVS table on a kernel without IPVS)
        and the hook's /readyz."""
        found = []
        probe = self.hooks(lb, EXABGP).get("readinessProbe")
        if probe:
            found += [
                f"exabgp: {line}"
                for line in self.run(lb, EXABGP, probe, env=env).stderr.splitlines()
            ]
        url = f"http://{url_host(lb.box.main)}:{HOOK_PORT}/readyz"
        status, _ = http(lb.box.netns, url, timeout=2)
        if status != 200:
            found.append("hook: /readyz does not answer 200 (no complete list applied yet)")
        return found


def write_configmaps(
    tree: dict[str, str], configmaps: dict[str, dict[str, str]], folder: Path
) -> dict[str, Path]:
    """Each ConfigMap volume's files, laid out as the kubelet would under `folder`."""
    laid = {}
    for volume, files in configmaps.items():
        (folder / volume).mkdir(parents=True, exist_ok=True)
        for key, path in files.items():
            (folder / volume / key).write_text(tree[path])
        laid[volume] = folder / volume
    return laid


IMAGE_PATH = "/opt/lbgen/bin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def within(rootfs: str, path: str) -> str:
    """Where `path` of the image really is on this host: its symbolic links followed inside
    the root filesystem (an image's /var/run is a link to /run; the host's must not be used)."""
    root = PurePosixPath(rootfs)
    resolved = PurePosixPath("/")
    pending = list(PurePosixPath(path).parts[1:])
    for _ in range(64):
        if not pending:
            break
        part = pending.pop(0)
        candidate = root / resolved.relative_to("/") / part
        if Path(candidate).is_symlink():
            target = PurePosixPath(Path(candidate).readlink())
            pending = (
                [*target.parts[1:], *pending] if target.is_absolute() else [*target.parts, *pending]
            )
            if target.is_absolute():
                resolved = PurePosixPath("/")
            continue
        resolved = resolved / part
    return str(root / resolved.relative_to("/"))


def image_script(
    rootfs: str,
    binds: list[tuple[str, str]],
    command: tuple[str, ...],
    env: dict[str, str],
    user: int,
) -> str:
    """Shell for `unshare --mount`: the image's root filesystem read-only (the Deployment's
    readOnlyRootFilesystem), /proc and /dev inside it, each volume at its mountPath, then the
    container's command run in it as the container's user with only the container's env."""
    root = shlex.quote(rootfs)
    lines = [
        "set -e",
        f"mount --bind {root} {root}",
        f"mount -o remount,bind,ro {root}",
        f"mount -t proc proc {root}/proc",
        f"mount --rbind /dev {root}/dev",
    ]
    for source, path in binds:
        lines.append(f"mount --bind {shlex.quote(source)} {shlex.quote(within(rootfs, path))}")
    variables = " ".join(
        shlex.quote(f"{k}={v}") for k, v in sorted({**env, "PATH": IMAGE_PATH}.items())
    )
    argv = " ".join(shlex.quote(part) for part in command)
    lines.append(f"exec chroot --userspec={user}:{user} {root} /usr/bin/env -i {variables} {argv}")
    return "\n".join(lines)


def mount_script(binds: list[tuple[str, str]], scratch: str, command: tuple[str, ...]) -> str:
    """Shell for `unshare --mount`: lay a private overlay over each top folder of a mountPath
    (so /etc/lbgen can exist without touching the host's /etc), bind each source there, exec."""
    lines = ["set -e"]
    tops = sorted({PurePosixPath(path).parts[1] for _, path in binds})
    for top in tops:
        upper, work = f"{scratch}/{top}/upper", f"{scratch}/{top}/work"
        lines += [
            f"mkdir -p {shlex.quote(upper)} {shlex.quote(work)}",
            f"mount -t overlay overlay -o lowerdir=/{top},upperdir={upper},workdir={work} /{top}",
        ]
    for source, path in binds:
        lines += [
            f"mkdir -p {shlex.quote(path)}",
            f"mount --bind {shlex.quote(source)} {shlex.quote(path)}",
        ]
    lines.append("exec " + " ".join(shlex.quote(part) for part in command))
    return "\n".join(lines)
