"""From a loaded catalog to files: the app, one chart per leaf, written atomically."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path, PurePosixPath

import cdk8s

from .catalog import Catalog, CatalogLeaf
from .ollama_inference_chart import OllamaInferenceChart


MANIFEST_FILE = "manifests.k8s.yaml"
"""The file name of a leaf's manifests inside its directory `<namespace>/<serviceName>/`."""


def leaf_output_path(leaf: CatalogLeaf) -> PurePosixPath:
    """Where a leaf's manifests go, relative to the output directory: one directory per leaf, so that an
    ArgoCD Application can point at exactly one service."""
    return PurePosixPath(leaf.namespace, leaf.service_name, MANIFEST_FILE)


def build_app(catalog: Catalog) -> cdk8s.App:
    """An App with one :class:`OllamaInferenceChart` per leaf (chart id `<namespace>.<serviceName>`)."""
    app = cdk8s.App()
    for loaded in catalog.leaves:
        OllamaInferenceChart(app, f"{loaded.leaf.namespace}.{loaded.leaf.service_name}", loaded.leaf, platform=catalog.platform)
    return app


def write_manifests(app: cdk8s.App, outdir: Path) -> list[Path]:
    """Write each chart of `app` (all :class:`OllamaInferenceChart`) as one multi-document YAML file."""
    errors = [f"{c.node.path}: {e}" for c in app.node.find_all() for e in c.node.validate()]
    if errors:
        raise ValueError("construct validation failed:\n" + "\n".join(errors))
    written = []
    for chart in app.charts:
        assert isinstance(chart, OllamaInferenceChart)
        path = outdir / leaf_output_path(chart.leaf)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(cdk8s.Yaml.stringify(*chart.to_json()), encoding="utf-8")
        written.append(path)
    return sorted(written)


def synth_to(catalog: Catalog, outdir: Path | str) -> list[Path]:
    """Synthesize `catalog` into `outdir`, replacing its contents only once every file is written.

    The manifests go to a temporary directory beside `outdir` first; `outdir` is swapped for it at the
    end, so a failure leaves `outdir` exactly as it was. Returns the files written.
    """
    outdir = Path(outdir)
    outdir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{outdir.name}.new-", dir=outdir.parent))
    try:
        write_manifests(build_app(catalog), staging)
        backup = None
        if outdir.exists():
            backup = Path(tempfile.mkdtemp(prefix=f".{outdir.name}.old-", dir=outdir.parent))
            backup.rmdir()
            outdir.rename(backup)
        staging.rename(outdir)
        if backup is not None:
            shutil.rmtree(backup)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    outdir.chmod(0o755)
    return sorted(p for p in outdir.rglob("*") if p.is_file())
