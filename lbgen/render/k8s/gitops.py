"""What points Argo CD and Flux at cluster/ (with spec.gitops)."""

from __future__ import annotations

from lbgen.plan import Plan
from lbgen.render.k8s.common import Manifest


def argocd_application(plan: Plan) -> Manifest:
    assert plan.gitops is not None
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {"name": f"lbgen-{plan.fabric}", "namespace": plan.gitops.argocd_namespace},
        "spec": {
            "project": "default",
            "source": {
                "repoURL": plan.gitops.repo_url,
                "targetRevision": plan.gitops.revision,
                "path": plan.gitops.path,
            },
            "destination": {"server": "https://kubernetes.default.svc"},
            "syncPolicy": {
                "automated": {"prune": True, "selfHeal": True},
                "syncOptions": ["ServerSideApply=true"],
            },
        },
    }


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
        {
            "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
            "kind": "Kustomization",
            "metadata": {"name": name, "namespace": ns},
            "spec": {
                "interval": "5m",
                "path": f"./{plan.gitops.path}",
                "prune": True,
                "wait": True,
                "sourceRef": {"kind": "GitRepository", "name": name},
            },
        },
    ]


def _ref(revision: str) -> dict[str, str]:
    """A full ref or a commit as such; anything else is taken as a branch name."""
    if revision.startswith("refs/"):
        return {"name": revision}
    if len(revision) == 40 and all(c in "0123456789abcdef" for c in revision):
        return {"commit": revision}
    return {"branch": revision}
