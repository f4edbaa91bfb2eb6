"""The cdk8s app of this repository: every leaf in `catalog/` synthesized into `dist/`.

`cdk8s synth` runs this file (see cdk8s.yaml); so can `python main.py`. Importing it synthesizes nothing.
It uses only the library's public API: `load_catalog`, `OllamaInferenceChart` and the command line's
`ollama_constructs.cli.main` (what `ollama-constructs synth` runs).
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from ollama_constructs import load_catalog  # the catalog layer: it does not start cdk8s's Node process
from ollama_constructs.cli import main as ollama_constructs_cli

if TYPE_CHECKING:
    import cdk8s

CATALOG = Path("catalog")
OUTDIR = Path("dist")
BACKSTAGE = Path("backstage")
ARGOCD = Path("argocd")


def build_app(catalog_dir: Path | str = CATALOG) -> cdk8s.App:
    """The app: one chart per leaf of `catalog_dir`, with id `<namespace>.<serviceName>` (raises
    CatalogError on any invalid leaf). For callers that want the constructs; `main` writes the files."""
    import cdk8s  # starts cdk8s's Node process: only here, so that `main` can start it tuned (in the CLI)

    from ollama_constructs import OllamaInferenceChart

    app = cdk8s.App()
    for loaded in load_catalog(catalog_dir).leaves:
        OllamaInferenceChart(app, f"{loaded.leaf.namespace}.{loaded.leaf.service_name}", loaded)
    return app


def main() -> int:
    """Synthesize the catalog into `dist/` atomically (nothing is written when a leaf is invalid).

    Also writes the Backstage entities to `backstage/` (and ArgoCD Applications to `argocd/` when the platform
    defaults configure ArgoCD). `OLLAMA_CONSTRUCTS_CATALOG` names another catalog; `OLLAMA_CONSTRUCTS_OUTPUT_ROOT`
    another directory to hold `dist/`, `backstage/` and `argocd/`.

    cdk8s-cli deletes its output directory before it runs the app, so cdk8s.yaml points it at a staging
    directory; the real output is `dist/`, and the staging directory gets a copy for the CLI to list.
    """
    catalog = os.environ.get("OLLAMA_CONSTRUCTS_CATALOG", str(CATALOG))
    root = Path(os.environ.get("OLLAMA_CONSTRUCTS_OUTPUT_ROOT", "."))
    outdir = root / OUTDIR
    status = ollama_constructs_cli(
        [
            "synth",
            "--catalog",
            catalog,
            "--outdir",
            str(outdir),
            "--backstage-outdir",
            str(root / BACKSTAGE),
            "--argocd-outdir",
            str(root / ARGOCD),
        ]
    )
    staging = os.environ.get("CDK8S_OUTDIR")
    if status == 0 and staging and Path(staging).resolve() != outdir.resolve():
        shutil.copytree(outdir, staging, dirs_exist_ok=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
