"""jsii's Node kernel, tuned for rendering many leaves in one process (the CLI's synth and its workers).

Every cdk8s call crosses from Python to jsii's Node kernel, and jsii keeps every object that ever
crossed, in the kernel and in Python, for the life of the process. For one App that is fine; for a
catalog of a thousand leaves it costs a relay process, a growing heap and the time of every hop. When
`start()` runs before cdk8s is first imported in a process, that process's kernel:

1. runs without the relay: jsii's Python client starts `node bin/jsii-runtime.js`, which starts the
   kernel (`lib/program.js`) as a second node process and copies every message between the two. Here
   the client starts `node/jsii-kernel-host.js` through jsii's `JSII_RUNTIME` setting, which runs the
   very same embedded kernel in the first process (about 45 MiB and two pipe hops per call less);
2. has a 1 MiB young generation (`--max-semi-space-size=1`): the kernel's heap is mostly long-lived
   assemblies, and the default 16 MiB semi-spaces hold about 40 MiB more at no gain in speed;
3. forgets each leaf's objects once the leaf is rendered (`released_objects()`): the references jsii
   handed to Python during the leaf are deleted from the kernel's object table (the `del` requests of
   jsii's protocol, written in one batch) and from the Python client's reference map, so both sides'
   garbage collectors can free the leaf's construct tree. Values made once per process and shared by
   later leaves are made inside `shared` functions, and are kept. The kernel host collects garbage itself
   when the heap has grown (a kernel blocked on its input gives V8 no idle time to do so);
4. skips the argument checks of the generated Python bindings: before every call they evaluate type
   hints and run typeguard over each argument, about a tenth of the renderer's time. The constructs'
   props are pydantic models validated before any cdk8s call, and the test suite, which imports cdk8s
   untuned, runs every construct with the checks on.

It relies on internals of the pinned jsii (`JSII_VERSION`): the embedded runtime files, the kernel's
descriptor 3, the client's process provider and reference map. With any other jsii, or with
`OLLAMA_CONSTRUCTS_JSII_TUNING=0`, `start()` does nothing and rendering works as it does without it,
only slower. The output is byte-identical either way (tested).
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import importlib.metadata
import importlib.resources
import json
import os
import shutil
import sys
import tempfile
import types
import typing
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

JSII_VERSION = "1.142.0"
"""The jsii Python client whose internals this module was written against and is tested with."""

TUNING_ENV = "OLLAMA_CONSTRUCTS_JSII_TUNING"
"""Set to 0 to run jsii's kernel as jsii starts it."""

PROGRAM_ENV = "OLLAMA_CONSTRUCTS_JSII_PROGRAM"
"""How `node/jsii-kernel-host.js` learns where the kernel's `lib/program.js` is."""

NODE_FLAGS = ("--preserve-symlinks", "--max-semi-space-size=1")
"""Node flags for the kernel: the relay's own (`--preserve-symlinks`), and a small young generation."""

DELETE_BATCH = 1000
"""`del` requests written before their answers are read (each answer is 10 bytes: far below a pipe's
buffer, so the kernel never blocks on a full pipe while this process is still writing)."""

_HOST_SCRIPT = Path(__file__).with_name("node") / "jsii-kernel-host.js"

_F = TypeVar("_F", bound=Callable[..., Any])


class _State:
    """What the tuned kernel of this process tracks."""

    started = False
    runtime_dir: Path | None = None
    tracking = 0
    pinning = 0
    seen: dict[str, None] = {}
    kept: set[str] = set()
    modules_seen = 0


def supported() -> bool:
    """Whether the installed jsii is the one this module knows, and tuning is not switched off."""
    if os.environ.get(TUNING_ENV, "1") == "0":
        return False
    try:
        return importlib.metadata.version("jsii") == JSII_VERSION
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - jsii is a dependency of cdk8s
        return False


def active() -> bool:
    """Whether this process's kernel was started by `start()`."""
    return _State.started


def start() -> bool:
    """Start jsii's kernel tuned, if nothing in this process has started it yet; True when it did.

    Call it before cdk8s, cdk8s-plus or constructs is imported (importing them starts the kernel).
    """
    if _State.started:
        return True
    if not supported() or "constructs" in sys.modules:
        return False
    runtime_dir = _extract_runtime()
    overrides = {
        "JSII_RUNTIME": str(_HOST_SCRIPT),
        PROGRAM_ENV: str(runtime_dir / "lib" / "program.js"),
        "NODE_OPTIONS": " ".join(filter(None, (os.environ.get("NODE_OPTIONS", ""), *NODE_FLAGS))),
    }
    saved = {name: os.environ.get(name) for name in overrides}
    os.environ.update(overrides)
    try:
        import constructs  # noqa: F401  (loading its assembly starts the kernel, with this environment)
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    _install_tracking()
    _skip_argument_checks()
    _State.started = True
    _State.runtime_dir = runtime_dir
    return True


def _extract_runtime() -> Path:
    """The jsii runtime embedded in the jsii package, written to a directory removed at exit."""
    import jsii._embedded.jsii as embedded

    directory = Path(tempfile.mkdtemp(prefix="ollama-constructs-jsii-"))
    atexit.register(shutil.rmtree, directory, True)
    files = importlib.resources.files(embedded)
    for resource, name in embedded.EMBEDDED_FILES.items():
        target = directory / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(files.joinpath(resource).read_bytes())
    return directory


_BINDINGS = ("constructs", "cdk8s", "ollama_constructs.imports")
"""The generated jsii bindings whose argument checks a tuned renderer skips."""


def _no_check(**_: Any) -> None:
    return None


class _RememberedForm:
    """A typing form (`Optional`, `List`, ...) whose subscriptions are remembered: the bindings write
    `typing.cast(typing.Optional[...], value)` in every getter, and typing checks the parameters anew
    each time. The results are typing's own objects."""

    __slots__ = ("_form", "_results")

    def __init__(self, form: Any) -> None:
        self._form = form
        self._results: dict[Any, Any] = {}

    def __getitem__(self, parameters: Any) -> Any:
        try:
            return self._results[parameters]
        except KeyError:
            result = self._results[parameters] = self._form[parameters]
            return result
        except TypeError:  # unhashable parameters
            return self._form[parameters]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._form, name)

    def __repr__(self) -> str:
        return repr(self._form)


_REMEMBERED_FORMS = ("Optional", "Union", "List", "Sequence", "Mapping", "Dict")


@functools.lru_cache(maxsize=1)
def _typing_with_cached_hints() -> types.ModuleType:
    """`typing`, with `get_type_hints` remembered per (generated, never changing) stub function, and the
    forms the bindings subscript at run time remembered per parameters."""
    module = types.ModuleType("typing")
    module.__dict__.update(typing.__dict__)
    module.get_type_hints = functools.lru_cache(maxsize=None)(typing.get_type_hints)  # type: ignore[attr-defined]
    for name in _REMEMBERED_FORMS:
        setattr(module, name, _RememberedForm(getattr(typing, name)))
    return module


def _skip_argument_checks() -> None:
    """Turn off the argument checks (typeguard, and the type hints it evaluates) of every generated binding
    imported so far; cheap when no module was imported since the last call."""
    if len(sys.modules) == _State.modules_seen:
        return
    _State.modules_seen = len(sys.modules)
    for name, module in list(sys.modules.items()):
        if module is None or not name.startswith(_BINDINGS):
            continue
        if callable(module.__dict__.get("check_type")) and module.__dict__["check_type"] is not _no_check:
            module.check_type = _no_check  # type: ignore[attr-defined]
            if module.__dict__.get("typing") is typing:
                module.typing = _typing_with_cached_hints()  # type: ignore[attr-defined]


def _install_tracking() -> None:
    """Note every object reference the kernel sends while a `released_objects()` block runs."""
    from jsii._kernel.providers import process
    from jsii._kernel.types import ObjRef

    decode = process.ohook

    def tracking_hook(value: dict[str, Any]) -> Any:
        for key in value:  # jsii's own values (references, dates, enums, maps) have a "$jsii." key first
            if not key.startswith("$jsii."):
                return value
            break
        result = decode(value)
        if _State.tracking and type(result) is ObjRef and not result.ref.endswith("@"):
            ref = result.ref
            if _State.pinning:
                _State.kept.add(ref)
                _State.seen.pop(ref, None)
            elif ref not in _State.kept:
                _State.seen[ref] = None
        return result

    process.ohook = tracking_hook


@contextlib.contextmanager
def released_objects() -> Iterator[None]:
    """Delete, when the block ends, every jsii object that crossed to Python inside it (except those
    made by `shared` functions). Nothing made inside may be used afterwards. Does nothing when the
    kernel is not tuned."""
    if not _State.started:
        yield
        return
    _skip_argument_checks()  # bindings first imported by the previous leaf
    _State.tracking += 1
    try:
        yield
    except BaseException:
        _State.tracking -= 1
        if not _State.tracking:
            with contextlib.suppress(Exception):  # the block's own error is the one to see
                _release()
        raise
    _State.tracking -= 1
    if not _State.tracking:
        _release()


def _release() -> None:
    refs = list(_State.seen)
    _State.seen.clear()
    if not refs:
        return
    import jsii
    from jsii import _reference_map

    pipes = jsii.kernel.provider._process._process
    errors = []
    for first in range(0, len(refs), DELETE_BATCH):
        batch = refs[first : first + DELETE_BATCH]
        pipes.stdin.write(b"".join(_delete_request(ref) for ref in batch))
        pipes.stdin.flush()
        for ref in batch:
            answer = json.loads(pipes.stdout.readline() or b"null")
            if not isinstance(answer, dict) or "ok" not in answer:
                errors.append(f"{ref}: {answer}")
    for ref in refs:
        _reference_map._refs._refs.pop(ref, None)
    if errors:
        raise RuntimeError(f"jsii kernel refused to delete {len(errors)} object(s): {errors[:3]}")


def _delete_request(ref: str) -> bytes:
    return json.dumps({"api": "del", "objref": {"$jsii.byref": ref}}, separators=(",", ":")).encode() + b"\n"


def shared(*, maxsize: int) -> Callable[[_F], _F]:
    """`functools.lru_cache(maxsize=...)` for functions that make immutable jsii values once per
    process: whatever they make is kept when a `released_objects()` block ends (a value dropped from
    the cache stays in the kernel, as every object does without tuning)."""

    def decorate(function: _F) -> _F:
        cached = functools.lru_cache(maxsize=maxsize, typed=True)(function)

        @functools.wraps(function)
        def pinned(*args: Any, **kwargs: Any) -> Any:
            _State.pinning += 1
            try:
                return cached(*args, **kwargs)
            finally:
                _State.pinning -= 1

        pinned.cache_clear = cached.cache_clear  # type: ignore[attr-defined]
        pinned.cache_info = cached.cache_info  # type: ignore[attr-defined]
        return pinned  # type: ignore[return-value]

    return decorate
