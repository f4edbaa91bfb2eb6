"""From a loaded catalog to files: the manifests, ArgoCD Applications and Backstage entities, written
atomically, large catalogs over several worker processes.

This module does not import cdk8s: the rendering (`_render`) runs in this process for small catalogs and
in workers for large ones, each worker with its own cdk8s (and Node) process.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .backstage import catalog_info_text
from .catalog import Catalog, LoadedLeaf, PlatformDefaults

PARALLEL_MIN_LEAVES = 40
"""Below this many leaves one process renders them all: a worker's start (its own Node process and the
cdk8s assemblies) costs about a second."""

WORKER_LEAVES = 250
"""Leaves a worker process renders before it is replaced: jsii keeps every object it ever created, so a
fresh worker bounds the memory."""


@dataclass(frozen=True, slots=True)
class Outputs:
    """Where each kind of output goes; None leaves that kind out (and its directory untouched)."""

    manifests: Path
    """The manifests ArgoCD applies: `<manifests>/<namespace>/<serviceName>/manifests.k8s.yaml`."""
    argocd: Path | None = None
    """ArgoCD Applications, `<argocd>/<namespace>/<serviceName>.yaml`, when the platform configures ArgoCD."""
    backstage: Path | None = None
    """Backstage entities, `<backstage>/<namespace>/<serviceName>.catalog-info.yaml`."""


def _render_part(leaves: tuple[LoadedLeaf, ...], platform: PlatformDefaults, manifests: Path, argocd: Path | None) -> int:
    from . import _render  # starts cdk8s's Node process in this (worker) process

    return _render.write_leaves(leaves, platform, manifests, argocd)


def _render_manifests(catalog: Catalog, manifests: Path, argocd: Path | None, jobs: int | None) -> None:
    leaves = catalog.leaves
    jobs = min(jobs or os.cpu_count() or 1, len(leaves))
    if jobs <= 1 or len(leaves) < PARALLEL_MIN_LEAVES:
        _render_part(leaves, catalog.platform, manifests, argocd)
        return
    size = min(WORKER_LEAVES, -(-len(leaves) // jobs))
    parts = [leaves[i : i + size] for i in range(0, len(leaves), size)]
    # Fork is cheap and safe while this process has no Node child (the usual CLI case); otherwise spawn.
    method = "spawn" if "jsii" in sys.modules else "fork"
    context = multiprocessing.get_context(method)
    with context.Pool(processes=jobs, maxtasksperchild=1) as pool:
        done = sum(pool.starmap(_render_part, [(part, catalog.platform, manifests, argocd) for part in parts], 1))
    assert done == len(leaves)


def synth_to(catalog: Catalog, outputs: Outputs | Path | str, jobs: int | None = None) -> list[Path]:
    """Synthesize `catalog` into the output directories, replacing their contents only once everything is
    rendered and written: a failure leaves every directory exactly as it was. Returns the files written.

    Args:
        catalog: the loaded catalog.
        outputs: the output directories (a plain path is the manifests directory alone).
        jobs: worker processes for large catalogs; default one per CPU, 1 renders in this process.
    """
    if not isinstance(outputs, Outputs):
        outputs = Outputs(manifests=Path(outputs))
    wanted = [outputs.manifests]
    argocd = outputs.argocd if catalog.platform.argocd is not None else None
    if argocd is not None:
        wanted.append(argocd)
    if outputs.backstage is not None:
        wanted.append(outputs.backstage)
    staged: dict[Path, Path] = {}
    try:
        for outdir in wanted:
            outdir.parent.mkdir(parents=True, exist_ok=True)
            staged[outdir] = Path(tempfile.mkdtemp(prefix=f".{outdir.name}.new-", dir=outdir.parent))
        _render_manifests(catalog, staged[outputs.manifests], staged.get(argocd) if argocd else None, jobs)
        if outputs.backstage is not None:
            for loaded in catalog.leaves:
                path = staged[outputs.backstage] / loaded.leaf.namespace / f"{loaded.leaf.service_name}.catalog-info.yaml"
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(catalog_info_text(loaded.resolved, loaded.file), encoding="utf-8")
    except BaseException:
        for staging in staged.values():
            shutil.rmtree(staging, ignore_errors=True)
        raise
    return _swap(staged)


def _swap(staged: dict[Path, Path]) -> list[Path]:
    """Replace each output directory by its staging directory."""
    written = []
    for outdir, staging in staged.items():
        staging.chmod(0o755)
        backup = None
        if outdir.exists():
            backup = Path(tempfile.mkdtemp(prefix=f".{outdir.name}.old-", dir=outdir.parent))
            backup.rmdir()
            outdir.rename(backup)
        staging.rename(outdir)
        if backup is not None:
            shutil.rmtree(backup)
        written += sorted(p for p in outdir.rglob("*") if p.is_file())
    return written
