"""Rendering leaves with cdk8s: the manifests and ArgoCD Applications of each leaf, as text.

Each leaf gets an App of its own: `Chart.to_json()` resolves the whole App it belongs to, so one App
holding a thousand charts would make every chart cost as much as all of them.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path, PurePosixPath

import cdk8s

from . import _argocd, _jsii_host, _yaml
from .catalog import Catalog, CatalogLeaf, LoadedLeaf, PlatformDefaults
from .ollama_inference_chart import OllamaInferenceChart

MANIFEST_FILE = "manifests.k8s.yaml"
"""The file name of a leaf's manifests inside its directory `<namespace>/<serviceName>/`."""

Files = dict[str, str]
"""Relative POSIX path -> text."""


def leaf_directory(leaf: CatalogLeaf) -> PurePosixPath:
    """A leaf's directory in the outputs, `<namespace>/<serviceName>`: one per leaf, so that an ArgoCD
    Application can point at exactly one service."""
    return PurePosixPath(leaf.namespace, leaf.service_name)


def chart_id(leaf: CatalogLeaf) -> str:
    """The id of a leaf's chart, `<namespace>.<serviceName>`."""
    return f"{leaf.namespace}.{leaf.service_name}"


def build_app(catalog: Catalog) -> cdk8s.App:
    """One App with a chart per leaf (for callers that want the constructs; the CLI renders leaf by leaf)."""
    app = cdk8s.App()
    for loaded in catalog.leaves:
        OllamaInferenceChart(app, chart_id(loaded.leaf), loaded)
    return app


def render_manifests(app: cdk8s.App) -> Files:
    """Each chart of `app` as one multi-document YAML text, keyed by its output path."""
    files = {}
    for chart in app.charts:
        assert isinstance(chart, OllamaInferenceChart)
        files[str(leaf_directory(chart.leaf) / MANIFEST_FILE)] = _yaml.dump_all(chart.to_json())
    return files


def render_leaf(loaded: LoadedLeaf, platform: PlatformDefaults) -> str:
    """One leaf's manifests, from an App of its own (whose objects the tuned kernel then forgets)."""
    with _jsii_host.released_objects():
        chart = OllamaInferenceChart(cdk8s.App(), chart_id(loaded.leaf), loaded.leaf, platform=platform)
        return _yaml.dump_all(chart.to_json())


def render_application(loaded: LoadedLeaf, platform: PlatformDefaults) -> str | None:
    """The ArgoCD Application of one leaf, or None when the platform does not configure ArgoCD."""
    settings = platform.argocd
    if settings is None:
        return None
    leaf = loaded.leaf
    with _jsii_host.released_objects():
        chart = cdk8s.Chart(cdk8s.App(), chart_id(leaf))
        _argocd.application(
            chart,
            "Application",
            name=chart_id(leaf),
            namespace=settings.namespace,
            repo_url=settings.repo_url,
            target_revision=settings.target_revision,
            path=str(PurePosixPath(settings.path) / leaf_directory(leaf)),
            destination_namespace=leaf.namespace,
            project=settings.project,
        )
        return _yaml.dump_all(chart.to_json())


def render_applications(catalog: Catalog) -> Files:
    """One ArgoCD Application per leaf, `<namespace>/<serviceName>.yaml` (empty without ArgoCD settings)."""
    files = {}
    for loaded in catalog.leaves:
        text = render_application(loaded, catalog.platform)
        if text is not None:
            files[f"{leaf_directory(loaded.leaf)}.yaml"] = text
    return files


def write_leaves(
    leaves: Iterable[LoadedLeaf], platform: PlatformDefaults, manifests: Path, argocd: Path | None
) -> int:
    """Render `leaves` and write their files below the (staging) directories; returns the number of leaves.

    This is what each worker process runs on its share of a catalog: files go straight to disk rather
    than back through the parent.
    """
    count = 0
    for loaded in leaves:
        directory = leaf_directory(loaded.leaf)
        _write(manifests / directory / MANIFEST_FILE, render_leaf(loaded, platform))
        if argocd is not None:
            application = render_application(loaded, platform)
            if application is not None:
                _write(argocd / f"{directory}.yaml", application)
        count += 1
    return count


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
