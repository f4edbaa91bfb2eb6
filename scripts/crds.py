#!/usr/bin/env python3
"""The pinned upstream CRDs (`crds/lock.json`): fetch and verify them, derive the schemas the tests use.

    python scripts/crds.py fetch DIR        # download what DIR lacks, then verify every file in it
    python scripts/crds.py verify DIR       # every locked file is in DIR with the locked bytes (offline)
    python scripts/crds.py derive DIR OUT   # write OUT/<file>.json from the verified files of DIR
    python scripts/crds.py check DIR OUT    # the files in OUT are what `derive` would write (offline)

A file is accepted when its bytes hash to the lock's sha256, or when it is such a file with one added first
line `# Source: ...` (the form a local mirror may keep to name its origin). Downloads come from
raw.githubusercontent.com at the locked commit (`OLLAMA_CONSTRUCTS_CRD_MIRROR` names another base URL,
for tests); nothing that fails its hash is ever written.

The derived files hold only what validation needs: for each served version its `openAPIV3Schema` with
every `description` removed; defaults, enums, formats, list types and CEL rules (`x-kubernetes-validations`)
are kept as they are. `verify` and `fetch` use only the standard library; `derive` and `check` need PyYAML.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import tempfile
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
LOCK_FILE = REPO / "crds" / "lock.json"
MIRROR_ENV = "OLLAMA_CONSTRUCTS_CRD_MIRROR"
DEFAULT_MIRROR = "https://raw.githubusercontent.com"
SOURCE_LINE = b"# Source: "
DOWNLOAD_TIMEOUT_SECONDS = 60
DOWNLOAD_MAX_BYTES = 4 * 1024 * 1024  # the largest pinned CRD is 0.43 MB


class CrdError(Exception):
    """A CRD that is missing, differs from its pin, or cannot be fetched."""


@dataclass(frozen=True)
class Pin:
    """One locked CRD file."""

    file: str
    repo: str
    tag: str
    commit: str
    path: str
    sha256: str

    @property
    def url(self) -> str:
        """Where the upstream bytes are, at the locked commit."""
        owner_repo = self.repo.removeprefix("https://github.com/")
        base = os.environ.get(MIRROR_ENV, DEFAULT_MIRROR).rstrip("/")
        return f"{base}/{owner_repo}/{self.commit}/{self.path}"


def load_lock(lock_file: Path = LOCK_FILE) -> list[Pin]:
    """The pins of the lock file, in file order."""
    data = json.loads(lock_file.read_text(encoding="utf-8"))
    fields = Pin.__dataclass_fields__
    return [Pin(**{key: entry[key] for key in fields}) for entry in data["crds"]]


def upstream_bytes(data: bytes) -> bytes:
    """`data` without the one `# Source: ...` line a mirror may have added in front (else `data` as is)."""
    if data.startswith(SOURCE_LINE):
        return data.partition(b"\n")[2]
    return data


def check_bytes(pin: Pin, data: bytes) -> None:
    """Raise unless `data` is the pinned file (with or without an added source line)."""
    if hashlib.sha256(data).hexdigest() == pin.sha256:
        return
    actual = hashlib.sha256(upstream_bytes(data)).hexdigest()
    if actual != pin.sha256:
        raise CrdError(
            f"{pin.file}: sha256 {actual} differs from the lock's {pin.sha256} "
            f"({pin.repo} {pin.tag}, {pin.path}); the file is not the pinned upstream file"
        )


def verify(crd_dir: Path, pins: list[Pin]) -> list[str]:
    """The problems of `crd_dir` against the lock: missing or differing files (empty when all match)."""
    problems = []
    for pin in pins:
        path = crd_dir / pin.file
        if not path.is_file():
            problems.append(f"{pin.file}: missing from {crd_dir} (run `make crds` to fetch it)")
            continue
        try:
            check_bytes(pin, path.read_bytes())
        except CrdError as exc:
            problems.append(str(exc))
    return problems


def download(pin: Pin) -> bytes:
    """The upstream file of `pin`, checked against its hash."""
    try:
        with urllib.request.urlopen(pin.url, timeout=DOWNLOAD_TIMEOUT_SECONDS) as response:  # noqa: S310
            data = response.read(DOWNLOAD_MAX_BYTES + 1)
    except (urllib.error.URLError, OSError) as exc:
        raise CrdError(f"{pin.file}: cannot download {pin.url}: {exc}") from None
    if len(data) > DOWNLOAD_MAX_BYTES:
        raise CrdError(f"{pin.file}: {pin.url} is larger than {DOWNLOAD_MAX_BYTES} bytes")
    check_bytes(pin, data)
    return data


def fetch(crd_dir: Path, pins: list[Pin]) -> list[str]:
    """Download every pinned file `crd_dir` lacks (each written only once its hash matches); then verify."""
    for pin in pins:
        path = crd_dir / pin.file
        if path.exists():
            continue
        data = download(pin)
        crd_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=crd_dir, prefix=f".{pin.file}.", delete=False) as handle:
            handle.write(data)
        Path(handle.name).replace(path)
        print(f"fetched {pin.file} from {pin.url}")
    return verify(crd_dir, pins)


# --------------------------------------------------------------------------- derived schemas

_SCHEMA_MAPS = ("properties", "patternProperties", "definitions")
_SCHEMA_LISTS = ("allOf", "anyOf", "oneOf")
_SCHEMA_ONE = ("items", "additionalProperties", "not")


def without_descriptions(schema: Any) -> Any:
    """A copy of an OpenAPI schema node with the `description` keyword removed at every level.

    Only schema nodes are walked: a property *named* `description`, and values such as `default` or
    `enum`, are kept as they are.
    """
    if not isinstance(schema, dict):
        return schema
    out = {}
    for key, value in schema.items():
        if key == "description":
            continue
        if key in _SCHEMA_MAPS and isinstance(value, dict):
            value = {name: without_descriptions(child) for name, child in value.items()}
        elif key in _SCHEMA_LISTS and isinstance(value, list):
            value = [without_descriptions(child) for child in value]
        elif key in _SCHEMA_ONE:
            value = [without_descriptions(c) for c in value] if isinstance(value, list) else without_descriptions(value)
        out[key] = value
    return out


def derived_document(pin: Pin, data: bytes) -> dict[str, Any]:
    """What validation needs from one CRD file: per served version, the schema without descriptions."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    definitions = []
    for document in yaml.load_all(upstream_bytes(data), Loader=loader):
        if not isinstance(document, dict) or document.get("kind") != "CustomResourceDefinition":
            continue
        spec = document["spec"]
        versions = [
            {"name": v["name"], "openAPIV3Schema": without_descriptions(v["schema"]["openAPIV3Schema"])}
            for v in spec["versions"]
            if v.get("served", True)
        ]
        definitions.append({"group": spec["group"], "kind": spec["names"]["kind"], "versions": versions})
    if not definitions:
        raise CrdError(f"{pin.file}: holds no CustomResourceDefinition")
    return {
        "_about": f"Derived by scripts/crds.py from {pin.repo} {pin.tag} {pin.path} "
        f"(sha256 {pin.sha256}; {pin.repo} is Apache-2.0): descriptions removed. Do not edit.",
        "crds": definitions,
    }


def derived_text(pin: Pin, data: bytes) -> str:
    return json.dumps(derived_document(pin, data), indent=1, ensure_ascii=False) + "\n"


def derived_name(pin: Pin) -> str:
    return f"{Path(pin.file).stem}.json"


def derive(crd_dir: Path, out_dir: Path, pins: list[Pin]) -> Iterator[Path]:
    """Write the derived schema of every pinned file; files of `out_dir` that no pin derives are removed."""
    problems = verify(crd_dir, pins)
    if problems:
        raise CrdError("\n".join(problems))
    out_dir.mkdir(parents=True, exist_ok=True)
    wanted = set()
    for pin in pins:
        target = out_dir / derived_name(pin)
        target.write_text(derived_text(pin, (crd_dir / pin.file).read_bytes()), encoding="utf-8")
        wanted.add(target.name)
        yield target
    for stale in out_dir.glob("*.json"):
        if stale.name not in wanted:
            stale.unlink()


def check(crd_dir: Path, out_dir: Path, pins: list[Pin]) -> list[str]:
    """The differences between the derived files in `out_dir` and those the CRDs of `crd_dir` give."""
    problems = verify(crd_dir, pins)
    if problems:
        return problems
    wanted = {derived_name(pin): pin for pin in pins}
    for name, pin in wanted.items():
        target = out_dir / name
        if not target.is_file():
            problems.append(f"{target}: missing; run `make crd-schemas`")
        elif target.read_text(encoding="utf-8") != derived_text(pin, (crd_dir / pin.file).read_bytes()):
            problems.append(f"{target}: differs from what {pin.file} gives; run `make crd-schemas`")
    problems += [f"{p}: no pin in the lock derives it" for p in sorted(out_dir.glob("*.json")) if p.name not in wanted]
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name, help_text in (("fetch", "download what DIR lacks, then verify it"), ("verify", "verify DIR offline")):
        sub.add_parser(name, help=help_text).add_argument("dir", type=Path)
    for name, help_text in (("derive", "write the derived schemas"), ("check", "compare the derived schemas")):
        command = sub.add_parser(name, help=help_text)
        command.add_argument("dir", type=Path)
        command.add_argument("out", type=Path)
    args = parser.parse_args(argv)
    pins = load_lock()
    try:
        if args.command == "fetch":
            problems = fetch(args.dir, pins)
        elif args.command == "verify":
            problems = verify(args.dir, pins)
        elif args.command == "derive":
            problems = []
            for path in derive(args.dir, args.out, pins):
                print(f"wrote {path}")
        else:
            problems = check(args.dir, args.out, pins)
    except CrdError as exc:
        problems = str(exc).splitlines()
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    if not problems and args.command in ("fetch", "verify", "check"):
        print(f"ok: {len(pins)} CRDs in {args.dir} match {LOCK_FILE.relative_to(REPO)}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
