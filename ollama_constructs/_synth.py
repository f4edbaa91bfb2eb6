"""From a loaded catalog to files: the manifests, ArgoCD Applications and Backstage entities, written
atomically, large catalogs over several worker processes.

This module does not import cdk8s: the rendering (`_render`) runs in this process for small catalogs and
in workers for large ones, each worker with its own cdk8s (and Node) process.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from . import _jsii_host
from .backstage import catalog_info_text
from .catalog import Catalog, LoadedLeaf, PlatformDefaults

PARALLEL_MIN_LEAVES = 40
"""Below this many leaves one process renders them all: a worker's start (its own Node process and the
cdk8s assemblies) costs about half a second."""

CHUNK_LEAVES = 16
"""Leaves a worker takes at a time: small enough that the workers finish together, large enough that
handing out chunks costs nothing measurable."""

WORKER_LEAVES = 250
"""Without the tuned kernel (`_jsii_host`), leaves a worker renders before it is replaced: jsii then keeps
every object it ever created, so a fresh worker bounds the memory. The tuned kernel forgets each leaf."""


@dataclass(frozen=True, slots=True)
class Outputs:
    """Where each kind of output goes; None leaves that kind out (and its directory untouched)."""

    manifests: Path
    """The manifests ArgoCD applies: `<manifests>/<namespace>/<serviceName>/manifests.k8s.yaml`."""
    argocd: Path | None = None
    """ArgoCD Applications, `<argocd>/<namespace>/<serviceName>.yaml`, when the platform configures ArgoCD."""
    backstage: Path | None = None
    """Backstage entities, `<backstage>/<namespace>/<serviceName>.catalog-info.yaml`."""


def _start_worker() -> None:
    """Start this (worker) process's tuned jsii kernel and load cdk8s, before the first chunk arrives."""
    _jsii_host.start()
    from . import _render  # noqa: F401


def _render_part(leaves: tuple[LoadedLeaf, ...], platform: PlatformDefaults, manifests: Path, argocd: Path | None) -> int:
    _start_worker()
    from . import _render

    return _render.write_leaves(leaves, platform, manifests, argocd)


class Renderers:
    """Worker processes rendering leaves, each with its own (tuned) jsii kernel.

    Started before the catalog is loaded (see :func:`start_renderers`), their start (cdk8s, the Node
    kernel, the assemblies: about 0.7 s each) overlaps the loading. Use as a context manager.
    """

    def __init__(self, jobs: int) -> None:
        recycle = None if _jsii_host.supported() else max(1, WORKER_LEAVES // CHUNK_LEAVES)
        # Fork is cheap and safe while this process has no Node child (the usual CLI case: importing
        # constructs is what starts it); otherwise spawn.
        method = "spawn" if "constructs" in sys.modules else "fork"
        context = multiprocessing.get_context(method)
        self.jobs = jobs
        self.pool = context.Pool(processes=jobs, initializer=_start_worker, maxtasksperchild=recycle)

    def __enter__(self) -> Renderers:
        return self

    def __exit__(self, *exc: object) -> None:
        self.pool.terminate()
        self.pool.join()


def start_renderers(leaves: int, jobs: int | None = None) -> Renderers | None:
    """Workers for a catalog of about `leaves` leaves, or None when one process should render it."""
    jobs = min(jobs or os.cpu_count() or 1, leaves)
    if jobs <= 1 or leaves < PARALLEL_MIN_LEAVES:
        return None
    return Renderers(jobs)


def _render_manifests(
    catalog: Catalog,
    manifests: Path,
    argocd: Path | None,
    jobs: int | None,
    during: Callable[[], None],
    renderers: Renderers | None,
) -> None:
    """Render the manifests (and Applications) of every leaf, calling `during` while workers render."""
    leaves = catalog.leaves
    with contextlib.ExitStack() as stack:
        if len(leaves) < PARALLEL_MIN_LEAVES:
            renderers = None
        elif renderers is None:
            renderers = start_renderers(len(leaves), jobs)
            if renderers is not None:
                stack.enter_context(renderers)
        if renderers is None:
            _render_part(leaves, catalog.platform, manifests, argocd)
            during()
            return
        parts = [leaves[i : i + CHUNK_LEAVES] for i in range(0, len(leaves), CHUNK_LEAVES)]
        pending = renderers.pool.starmap_async(
            _render_part, [(part, catalog.platform, manifests, argocd) for part in parts], 1
        )
        during()
        done = sum(pending.get())
    if done != len(leaves):
        raise RuntimeError(f"rendered {done} of {len(leaves)} leaves")


def synth_to(
    catalog: Catalog, outputs: Outputs | Path | str, jobs: int | None = None, renderers: Renderers | None = None
) -> list[Path]:
    """Synthesize `catalog` into the output directories, replacing their contents only once everything is
    rendered and written: a failure leaves every directory exactly as it was. Returns the files written.

    Args:
        catalog: the loaded catalog.
        outputs: the output directories (a plain path is the manifests directory alone).
        jobs: worker processes for large catalogs; default one per CPU, 1 renders in this process.
        renderers: workers already started (:func:`start_renderers`); used for catalogs of
            `PARALLEL_MIN_LEAVES` leaves or more, instead of starting new ones.
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
        backstage = staged.get(outputs.backstage) if outputs.backstage is not None else None

        def write_backstage() -> None:
            if backstage is None:
                return
            for loaded in catalog.leaves:
                path = backstage / loaded.leaf.namespace / f"{loaded.leaf.service_name}.catalog-info.yaml"
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(catalog_info_text(loaded.resolved, loaded.file), encoding="utf-8")

        _render_manifests(
            catalog, staged[outputs.manifests], staged.get(argocd) if argocd else None, jobs, write_backstage, renderers
        )
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
