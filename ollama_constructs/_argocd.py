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
    """ConfigMaps, NetworkPolicies, ReferenceGrants: what the pods mount or are constrained by, and the
    permissions the routes need."""
    WORKLOADS = 0
    """Deployments, StatefulSets, their claims, Services, disruption budgets."""
    ROUTING = 1
    """Issuers, Certificates, Gateways, routes and autoscalers: they need the workloads to exist. It is the
    last wave, which ArgoCD does not wait on: a Gateway is Degraded until its certificate is issued."""


WAVES: dict[str, SyncWave] = {
    "ConfigMap": SyncWave.CONFIGURATION,
    "Secret": SyncWave.CONFIGURATION,
    "NetworkPolicy": SyncWave.CONFIGURATION,
    "ReferenceGrant": SyncWave.CONFIGURATION,
    # With WaitForFirstConsumer (most clouds' default class) a claim binds only once a pod that uses it is
    # scheduled: in an earlier wave it stays Pending, which ArgoCD counts as Progressing, forever
    # (argoproj/argo-cd issue 12840). So it goes with the workload that binds it.
    "PersistentVolumeClaim": SyncWave.WORKLOADS,
    "Deployment": SyncWave.WORKLOADS,
    "StatefulSet": SyncWave.WORKLOADS,
    "Service": SyncWave.WORKLOADS,
    "PodDisruptionBudget": SyncWave.WORKLOADS,
    "Issuer": SyncWave.ROUTING,
    "Certificate": SyncWave.ROUTING,
    "Gateway": SyncWave.ROUTING,
    "HTTPRoute": SyncWave.ROUTING,
    "HTTPScaledObject": SyncWave.ROUTING,
}

HEALTH_NEEDS: dict[str, tuple[str, ...]] = {
    # gitops-engine pkg/health/health_pvc.go: Pending is Progressing; a WaitForFirstConsumer claim binds when
    # its first pod is scheduled.
    "PersistentVolumeClaim": ("Deployment", "StatefulSet"),
    # health_deployment.go / health_statefulset.go: Healthy once the rollout is complete, i.e. the pods are
    # Ready: they mount the ConfigMaps and the claim, pull through the NetworkPolicy's egress, and the auth
    # proxy's nginx resolves its upstream Service (ClusterIP or ExternalName) when it starts.
    "Deployment": ("ConfigMap", "Secret", "PersistentVolumeClaim", "NetworkPolicy", "Service"),
    "StatefulSet": ("ConfigMap", "Secret", "NetworkPolicy", "Service"),
    # resource_customizations/cert-manager.io/Certificate/health.lua: Progressing while Issuing; an HTTP-01
    # challenge is answered through the Gateway's http listener and needs the Issuer.
    "Certificate": ("Issuer", "Gateway"),
    # resource_customizations/gateway.networking.k8s.io/Gateway/health.lua: a listener whose certificate
    # Secret does not exist yet has ResolvedRefs False, which is Degraded.
    "Gateway": ("Certificate",),
    # .../HTTPRoute/health.lua: Accepted needs the parent Gateway, ResolvedRefs the backend Service and, across
    # namespaces, the ReferenceGrant.
    "HTTPRoute": ("Gateway", "Service", "ReferenceGrant"),
    # No health check for http.keda.sh (none in resource_customizations): KEDA needs its target to exist.
    "HTTPScaledObject": ("Deployment", "StatefulSet", "Service"),
    # Not listed, because their health needs nothing of ours: ConfigMap, Secret, NetworkPolicy and
    # ReferenceGrant have no health; a ClusterIP or ExternalName Service is Healthy at once
    # (health_service.go); a PodDisruptionBudget is Healthy as soon as its controller writes a status, with
    # InsufficientPods too (policy/PodDisruptionBudget/health.lua); an ACME Issuer's Ready needs only its
    # account at the ACME server (cert-manager.io/Issuer/health.lua).
}
"""For each kind the library emits, the kinds whose state its ArgoCD health waits for (argo-cd v3.5.1)."""

DEGRADED_WHILE_WAITING = frozenset({"Gateway", "HTTPRoute"})
"""Kinds whose health is Degraded, not Progressing, while what they need converges. In a sync with several
waves a Degraded object fails the sync (gitops-engine `pkg/sync/sync_context.go`), except in the last
wave, whose health ArgoCD does not wait for ("successful EVEN if those objects subsequently degrade")."""


def wave_problems(manifests: list[dict[str, Any]]) -> list[str]:
    """Every object of one chart whose ArgoCD health waits for an object of a later wave (the sync would then
    never reach that wave), or that is Degraded while waiting but not in the last wave; `[]` when none."""
    waves: dict[str, set[int]] = {}
    for manifest in manifests:
        waves.setdefault(manifest["kind"], set()).add(int(manifest["metadata"]["annotations"][SYNC_WAVE]))
    last = max((w for ws in waves.values() for w in ws), default=0)
    problems = []
    for kind, kind_waves in sorted(waves.items()):
        for needed in HEALTH_NEEDS.get(kind, ()):
            later = sorted(w for w in waves.get(needed, ()) if w > min(kind_waves))
            if later:
                problems.append(f"{kind} (wave {min(kind_waves)}) waits for {needed}, which is in wave {later[0]}")
        if kind in DEGRADED_WHILE_WAITING and min(kind_waves) != last:
            problems.append(f"{kind} (wave {min(kind_waves)}) can be Degraded while it waits, but is not in the last wave {last}")
    return problems


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
