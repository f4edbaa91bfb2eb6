"""The command line: `ollama-constructs validate | plan | synth | schema` (also `python -m ollama_constructs`)."""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Sequence
from pathlib import Path

from .catalog import Catalog, CatalogError, leaf_json_schema_text, load_catalog
from .catalog.loader import leaf_files


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ollama-constructs", description="Validate catalog leaves and synthesize their Kubernetes manifests."
    )
    sub = parser.add_subparsers(dest="command", required=True)

    def catalog_args(p: argparse.ArgumentParser) -> None:
        p.add_argument("--catalog", default="catalog", type=Path, help="directory of leaves (default: catalog)")
        p.add_argument(
            "--platform",
            type=Path,
            default=None,
            help="platform-defaults file (default: <catalog>/platform-defaults.yaml if present, else built-in)",
        )

    catalog_args(sub.add_parser("validate", help="check every leaf; exit 1 with every error"))
    synth = sub.add_parser("synth", help="write one manifest file per leaf, only when every leaf is valid")
    catalog_args(synth)
    synth.add_argument("--outdir", default="dist", type=Path, help="manifests directory (default: dist)")
    synth.add_argument(
        "--backstage-outdir",
        default="backstage",
        type=Path,
        help="Backstage catalog-info entities (default: backstage); '-' writes none",
    )
    synth.add_argument(
        "--jobs",
        type=int,
        default=None,
        help="worker processes for large catalogs (default: one per CPU; 1 synthesizes in this process)",
    )
    synth.add_argument(
        "--argocd-outdir",
        default="argocd",
        type=Path,
        help="ArgoCD Applications, when the platform defaults configure argocd (default: argocd); '-' writes none",
    )
    catalog_args(sub.add_parser("plan", help="print what each leaf resolves to: sizes, resources, GPU, volume"))
    sub.add_parser("schema", help="print the JSON Schema of a catalog leaf")
    return parser


def _load(args: argparse.Namespace) -> Catalog | None:
    try:
        catalog = load_catalog(args.catalog, args.platform)
    except CatalogError as exc:
        for error in exc.errors:
            print(f"error: {error}", file=sys.stderr)
        print(f"{len(exc.errors)} error(s); nothing was written", file=sys.stderr)
        return None
    for skipped in catalog.skipped:
        print(f"skipped: {skipped.file}: workloadType {skipped.workload_type} belongs to another chart", file=sys.stderr)
    return catalog


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (0 ok, 1 invalid catalog, 2 usage)."""
    args = _parser().parse_args(argv)
    if args.command == "schema":
        sys.stdout.write(leaf_json_schema_text())
        return 0
    if args.command == "synth":
        return _synth_command(args)
    catalog = _load(args)
    if catalog is None:
        return 1
    if args.command == "validate":
        for loaded in catalog.leaves:
            print(f"ok: {loaded.file} ({loaded.leaf.namespace}/{loaded.leaf.service_name})")
        return 0
    if args.command == "plan":
        from .catalog.plan import describe

        print("\n\n".join("\n".join(describe(loaded, catalog.platform)) for loaded in catalog.leaves))
        return 0
    raise AssertionError(f"unknown command {args.command!r}")


def _synth_command(args: argparse.Namespace) -> int:
    from . import _synth  # imports no cdk8s: rendering happens in workers, or after loading, in this process

    def optional(path: Path) -> Path | None:
        return None if str(path) == "-" else path

    outputs = _synth.Outputs(
        manifests=args.outdir, argocd=optional(args.argocd_outdir), backstage=optional(args.backstage_outdir)
    )
    catalog_dir = Path(args.catalog)
    expected = len(leaf_files(catalog_dir)) if catalog_dir.is_dir() else 0
    # Workers start while the catalog loads; an invalid catalog stops them before anything is written.
    with _synth.start_renderers(expected, args.jobs) or contextlib.nullcontext() as renderers:
        catalog = _load(args)
        if catalog is None:
            return 1
        files = _synth.synth_to(catalog, outputs, args.jobs, renderers)
    for path in files:
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
