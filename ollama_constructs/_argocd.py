"""ArgoCD wiring: sync waves on every object, and an Application per leaf.

Waves order a sync: configuration and policies first, then the workloads and their Services, then what
routes traffic to them. The library never writes ArgoCD's tracking annotation
(`argocd.argoproj.io/tracking-id`); ArgoCD adds it itself. Use ArgoCD's default annotation tracking: in the
legacy label mode ArgoCD would overwrite `app.kubernetes.io/instance`, which our selectors use.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any

import cdk8s
from constructs import Construct

from .imports.argocd.io import argoproj as argo

SYNC_WAVE = "argocd.argoproj.io/sync-wave"


class SyncWave(IntEnum):
    """The waves of one leaf's objects."""

    CONFIGURATION = -1
    """ConfigMaps, claims, NetworkPolicies: what the pods mount or are constrained by."""
    WORKLOADS = 0
    """Deployments, StatefulSets, Services, disruption budgets."""
    ROUTING = 1
    """Certificates, Gateways, routes, grants and autoscalers: they need the workloads to exist."""


WAVES: dict[str, SyncWave] = {
    "ConfigMap": SyncWave.CONFIGURATION,
    "Secret": SyncWave.CONFIGURATION,
    "PersistentVolumeClaim": SyncWave.CONFIGURATION,
    "NetworkPolicy": SyncWave.CONFIGURATION,
    "Deployment": SyncWave.WORKLOADS,
    "StatefulSet": SyncWave.WORKLOADS,
    "Service": SyncWave.WORKLOADS,
    "PodDisruptionBudget": SyncWave.WORKLOADS,
    "Certificate": SyncWave.ROUTING,
    "Gateway": SyncWave.ROUTING,
    "HTTPRoute": SyncWave.ROUTING,
    "ReferenceGrant": SyncWave.ROUTING,
    "HTTPScaledObject": SyncWave.ROUTING,
}


def with_sync_waves(manifests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`manifests` (a chart's synthesized objects) with the sync-wave annotation on each, by kind.

    Applied to the synthesized dicts, so it costs no call into cdk8s's Node process per object.

    Raises:
        KeyError: for a kind without a wave, so a new kind cannot slip through unordered.
    """
    for manifest in manifests:
        annotations = manifest.setdefault("metadata", {}).setdefault("annotations", {})
        annotations[SYNC_WAVE] = str(int(WAVES[manifest["kind"]]))
    return manifests


def application(
    scope: Construct,
    id: str,
    *,
    name: str,
    namespace: str,
    repo_url: str,
    target_revision: str,
    path: str,
    destination_namespace: str,
    project: str = "default",
    destination_server: str = "https://kubernetes.default.svc",
) -> argo.Application:
    """An ArgoCD Application that syncs one leaf's output directory (pruning, self-healing, namespace
    created, server-side apply so KEDA's replica count and ArgoCD never fight over fields)."""
    return argo.Application(
        scope,
        id,
        metadata=cdk8s.ApiObjectMetadata(name=name, namespace=namespace),
        spec=argo.ApplicationSpec(
            project=project,
            source=argo.ApplicationSpecSource(repo_url=repo_url, target_revision=target_revision, path=path),
            destination=argo.ApplicationSpecDestination(server=destination_server, namespace=destination_namespace),
            sync_policy=argo.ApplicationSpecSyncPolicy(
                automated=argo.ApplicationSpecSyncPolicyAutomated(prune=True, self_heal=True),
                sync_options=["CreateNamespace=true", "ServerSideApply=true"],
            ),
        ),
    )
