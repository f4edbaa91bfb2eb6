"""The command line: `ollama-constructs validate | plan | synth | schema` (also `python -m ollama_constructs`)."""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Sequence
from pathlib import Path

from .catalog import PLATFORM_DEFAULTS_FILE, Catalog, CatalogError, leaf_json_schema_text, load_catalog
from .catalog.loader import leaf_files


OUTPUTS_RULE = (
    "Where the outputs go: the manifests into --outdir; the Backstage entities into --backstage-outdir and "
    "the ArgoCD Applications into --argocd-outdir, which default to the directories 'backstage' and 'argocd' "
    "beside --outdir (in its parent directory: with the default --outdir dist, ./backstage and ./argocd; with "
    "--outdir /tmp/out/dist, /tmp/out/backstage and /tmp/out/argocd). Nothing is written anywhere else."
)


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
    synth = sub.add_parser(
        "synth",
        help="write one manifest file per leaf, only when every leaf is valid",
        description="Write the manifests of every leaf, and its Backstage entity and ArgoCD Application, "
        "only when every leaf is valid; each output directory is replaced as a whole, at the end.",
        epilog=OUTPUTS_RULE,
    )
    catalog_args(synth)
    synth.add_argument("--outdir", default=Path("dist"), type=Path, help="manifests directory (default: dist)")
    synth.add_argument(
        "--backstage-outdir",
        default=None,
        type=Path,
        help="Backstage catalog-info entities (default: backstage beside --outdir); '-' writes none",
    )
    synth.add_argument(
        "--jobs",
        type=int,
        default=None,
        help="worker processes for large catalogs (default: one per CPU; 1 synthesizes in this process)",
    )
    synth.add_argument(
        "--argocd-outdir",
        default=None,
        type=Path,
        help="ArgoCD Applications, when the platform defaults configure argocd (default: argocd beside --outdir); "
        "'-' writes none",
    )
    plan = sub.add_parser(
        "plan",
        help="print what each leaf resolves to: models, resources, GPU, volume, time budgets, exposure, auth",
        description="Print what each leaf resolves to, every fact once, and where each value came from.",
    )
    catalog_args(plan)
    plan.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="text (default) or json, in the shape of schema/plan.schema.json (`ollama-constructs schema plan`)",
    )
    schema = sub.add_parser("schema", help="print the JSON Schema of a catalog leaf (or of `plan --format json`)")
    schema.add_argument("what", nargs="?", choices=("leaf", "plan"), default="leaf", help="leaf (default) or plan")
    return parser


def _platform_origin(args: argparse.Namespace) -> str:
    """Where the platform defaults came from: the file named, the catalog's own, or the built-in ones."""
    path = args.platform if args.platform is not None else Path(args.catalog) / PLATFORM_DEFAULTS_FILE
    return str(path) if path.is_file() else "built-in (no platform-defaults.yaml)"


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
        if args.what == "plan":
            from .catalog.plan import plan_json_schema_text

            sys.stdout.write(plan_json_schema_text())
        else:
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
        from .catalog.plan import plan_json, plan_text

        render = plan_json if args.format == "json" else plan_text
        sys.stdout.write(render(catalog, _platform_origin(args)))
        return 0
    raise AssertionError(f"unknown command {args.command!r}")


def _synth_command(args: argparse.Namespace) -> int:
    from . import _synth  # imports no cdk8s: rendering happens in workers, or after loading, in this process

    def beside_outdir(path: Path | None, name: str) -> Path | None:
        if path is None:
            return args.outdir.parent / name  # see OUTPUTS_RULE
        return None if str(path) == "-" else path

    outputs = _synth.Outputs(
        manifests=args.outdir,
        argocd=beside_outdir(args.argocd_outdir, "argocd"),
        backstage=beside_outdir(args.backstage_outdir, "backstage"),
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
