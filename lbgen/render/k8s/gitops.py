"""What points Argo CD and Flux at cluster/ (with spec.gitops): the fabric-wide folder and each
service's folder synced apart, each a small kustomize build (lbgen.render.k8s.kustomize), so a
thousand services sync where one build of them all would pass Argo CD's 90 s."""

from __future__ import annotations

from typing import Any

from lbgen.plan import Plan
from lbgen.render.k8s.common import Manifest
from lbgen.render.k8s.kustomize import FABRIC_DIR, SERVICES_DIR

SYNC = {
    "automated": {"prune": True, "selfHeal": True},
    "syncOptions": ["ServerSideApply=true"],
}


def _argocd_spec(plan: Plan, path: str) -> dict[str, Any]:
    assert plan.gitops is not None
    return {
        "project": "default",
        "source": {
            "repoURL": plan.gitops.repo_url,
            "targetRevision": plan.gitops.revision,
            "path": path,
        },
        "destination": {"server": "https://kubernetes.default.svc"},
        "syncPolicy": SYNC,
    }


def argocd_applications(plan: Plan) -> list[Manifest]:
    """An Application for the fabric-wide objects; an ApplicationSet makes one per service
    folder (Argo CD's git directory generator), so a service's commit syncs that service."""
    assert plan.gitops is not None
    name, ns, path = f"lbgen-{plan.fabric}", plan.gitops.argocd_namespace, plan.gitops.path
    return [
        {
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "Application",
            "metadata": {"name": name, "namespace": ns},
            "spec": _argocd_spec(plan, f"{path}/{FABRIC_DIR}"),
        },
        {
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "ApplicationSet",
            "metadata": {"name": f"{name}-services", "namespace": ns},
            "spec": {
                "generators": [
                    {
                        "git": {
                            "repoURL": plan.gitops.repo_url,
                            "revision": plan.gitops.revision,
                            "directories": [{"path": f"{path}/{SERVICES_DIR}/*"}],
                        }
                    }
                ],
                "template": {
                    "metadata": {"name": f"{name}-{{{{path.basename}}}}"},
                    "spec": _argocd_spec(plan, "{{path}}"),
                },
            },
        },
    ]


def flux(plan: Plan) -> list[Manifest]:
    assert plan.gitops is not None
    name = f"lbgen-{plan.fabric}"
    ns = plan.gitops.flux_namespace
    return [
        {
            "apiVersion": "source.toolkit.fluxcd.io/v1",
            "kind": "GitRepository",
            "metadata": {"name": name, "namespace": ns},
            "spec": {
                "interval": "1m",
                "url": plan.gitops.repo_url,
                "ref": _ref(plan.gitops.revision),
            },
        },
        _flux_kustomization(name, ns, f"./{plan.gitops.path}/{FABRIC_DIR}", name, None),
        *(
            _flux_kustomization(
                f"{name}-{s.name}", ns, f"./{plan.gitops.path}/{SERVICES_DIR}/{s.name}", name, name
            )
            for s in plan.services
        ),
    ]


def _flux_kustomization(name: str, ns: str, path: str, source: str, after: str | None) -> Manifest:
    """One Flux Kustomization: a folder of cluster/, built alone; a service's after the fabric's
    (its namespace and accounts)."""
    spec: dict[str, Any] = {
        "interval": "5m",
        "path": path,
        "prune": True,
        "wait": True,
        "sourceRef": {"kind": "GitRepository", "name": source},
    }
    if after is not None:
        spec["dependsOn"] = [{"name": after}]
    return {
        "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
        "kind": "Kustomization",
        "metadata": {"name": name, "namespace": ns},
        "spec": spec,
    }


def _ref(revision: str) -> dict[str, str]:
    """A full ref or a commit as such; anything else is taken as a branch name."""
    if revision.startswith("refs/"):
        return {"name": revision}
    if len(revision) == 40 and all(c in "0123456789abcdef" for c in revision):
        return {"commit": revision}
    return {"branch": revision}
