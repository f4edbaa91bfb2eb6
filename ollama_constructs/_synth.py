"""From a loaded catalog to files: the manifests, ArgoCD Applications and Backstage entities, written
atomically."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import cdk8s

from . import _argocd
from .backstage import catalog_info_text
from .catalog import Catalog, CatalogLeaf
from .ollama_inference_chart import OllamaInferenceChart

MANIFEST_FILE = "manifests.k8s.yaml"
"""The file name of a leaf's manifests inside its directory `<namespace>/<serviceName>/`."""

Files = dict[str, str]
"""Relative POSIX path -> text."""


@dataclass(frozen=True, slots=True)
class Outputs:
    """Where each kind of output goes; None leaves that kind out (and its directory untouched)."""

    manifests: Path
    """The manifests ArgoCD applies: `<manifests>/<namespace>/<serviceName>/manifests.k8s.yaml`."""
    argocd: Path | None = None
    """ArgoCD Applications, `<argocd>/<namespace>/<serviceName>.yaml`, when the platform configures ArgoCD."""
    backstage: Path | None = None
    """Backstage entities, `<backstage>/<namespace>/<serviceName>.catalog-info.yaml`."""


def leaf_output_path(leaf: CatalogLeaf) -> PurePosixPath:
    """Where a leaf's manifests go, relative to the output directory: one directory per leaf, so that an
    ArgoCD Application can point at exactly one service."""
    return PurePosixPath(leaf.namespace, leaf.service_name, MANIFEST_FILE)


def build_app(catalog: Catalog) -> cdk8s.App:
    """An App with one :class:`OllamaInferenceChart` per leaf (chart id `<namespace>.<serviceName>`)."""
    app = cdk8s.App()
    for loaded in catalog.leaves:
        chart_id = f"{loaded.leaf.namespace}.{loaded.leaf.service_name}"
        OllamaInferenceChart(app, chart_id, loaded.leaf, platform=catalog.platform)
    return app


def render_manifests(app: cdk8s.App) -> Files:
    """Each chart of `app` as one multi-document YAML text, keyed by its output path."""
    errors = [f"{c.node.path}: {e}" for c in app.node.find_all() for e in c.node.validate()]
    if errors:
        raise ValueError("construct validation failed:\n" + "\n".join(errors))
    files = {}
    for chart in app.charts:
        assert isinstance(chart, OllamaInferenceChart)
        files[str(leaf_output_path(chart.leaf))] = cdk8s.Yaml.stringify(*chart.to_json())
    return files


def render_applications(catalog: Catalog) -> Files:
    """One ArgoCD Application per leaf, pointing at the leaf's manifest directory (empty without ArgoCD
    settings in the platform defaults)."""
    settings = catalog.platform.argocd
    if settings is None:
        return {}
    app = cdk8s.App()
    files = {}
    for loaded in catalog.leaves:
        leaf = loaded.leaf
        chart = cdk8s.Chart(app, f"{leaf.namespace}.{leaf.service_name}")
        directory = leaf_output_path(leaf).parent
        _argocd.application(
            chart,
            "Application",
            name=f"{leaf.namespace}.{leaf.service_name}",
            namespace=settings.namespace,
            repo_url=settings.repo_url,
            target_revision=settings.target_revision,
            path=str(PurePosixPath(settings.path) / directory),
            destination_namespace=leaf.namespace,
            project=settings.project,
        )
        files[f"{directory}.yaml"] = cdk8s.Yaml.stringify(*chart.to_json())
    return files


def render_entities(catalog: Catalog) -> Files:
    """One Backstage `catalog-info.yaml` per leaf."""
    return {
        f"{loaded.leaf.namespace}/{loaded.leaf.service_name}.catalog-info.yaml": catalog_info_text(
            loaded.resolved, loaded.file
        )
        for loaded in catalog.leaves
    }


def render(catalog: Catalog, outputs: Outputs) -> dict[Path, Files]:
    """Every file of every requested output, keyed by output directory."""
    rendered = {outputs.manifests: render_manifests(build_app(catalog))}
    if outputs.argocd is not None and catalog.platform.argocd is not None:
        rendered[outputs.argocd] = render_applications(catalog)
    if outputs.backstage is not None:
        rendered[outputs.backstage] = render_entities(catalog)
    return rendered


def synth_to(catalog: Catalog, outputs: Outputs | Path | str) -> list[Path]:
    """Synthesize `catalog` and replace each output directory's contents, only once everything is rendered
    and written. Returns the files written."""
    if not isinstance(outputs, Outputs):
        outputs = Outputs(manifests=Path(outputs))
    return write_atomically(render(catalog, outputs))


def write_atomically(outputs: Mapping[Path, Files]) -> list[Path]:
    """Write each directory's files into a temporary directory beside it, then swap the directories.

    A failure while writing leaves every output directory exactly as it was.
    """
    staged: list[tuple[Path, Path]] = []
    try:
        for outdir, files in outputs.items():
            outdir.parent.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(prefix=f".{outdir.name}.new-", dir=outdir.parent))
            staged.append((outdir, staging))
            for relative, text in sorted(files.items()):
                path = staging / relative
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text, encoding="utf-8")
    except BaseException:
        for _, staging in staged:
            shutil.rmtree(staging, ignore_errors=True)
        raise
    written = []
    for outdir, staging in staged:
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
