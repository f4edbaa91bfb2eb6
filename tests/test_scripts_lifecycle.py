"""Tests for the model list (models.list), digest pinning, aliases, Modelfiles, the pull lock
and the model-manager sidecar.

As in test_scripts.py, the real scripts run under bash with the stand-in `ollama` first on
PATH and a real model store on disk (see tests/standin/README.md).
"""

from __future__ import annotations

import hashlib
import importlib.machinery
import importlib.util
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from tests.test_scripts import (  # noqa: F401  (sandbox is a fixture)
    PHI,
    SCRIPTS,
    STANDIN,
    Result,
    Sandbox,
    assert_server_stopped,
    process_alive,
    sandbox,
)

INTERNAL = "registry.corp:5000/library/phi:latest"
INTERNAL_PATH = "registry.corp:5000/library/phi/latest"
HTTP_ONLY = {"STANDIN_OLLAMA_HTTP_REGISTRIES": "registry.corp:5000"}
MODELFILE = '''# an assistant built on phi
FROM phi
SYSTEM """You are a terse
assistant."""
PARAMETER temperature 0.2
TEMPLATE "{{ .Prompt }}"
'''


def load_standin() -> ModuleType:
    """The stand-in as a module, for the digests its fake registry serves."""
    loader = importlib.machinery.SourceFileLoader("standin_ollama", str(STANDIN / "ollama"))
    spec = importlib.util.spec_from_loader(loader.name, loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[loader.name] = module
    loader.exec_module(module)
    return module


STANDIN_MODULE = load_standin()


def published_digest(ref: str, version: str = "1") -> str:
    return STANDIN_MODULE.published_manifest_digest(ref, version)


def digest_of_file(path: Path) -> str:
    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


class Spec:
    """A models.list directory, as the construct mounts it from a ConfigMap."""

    def __init__(self, sandbox: Sandbox):
        self.dir = sandbox.root / "spec"
        self.dir.mkdir(exist_ok=True)

    def write(self, text: str, **modelfiles: str) -> Spec:
        """Write models.list and Modelfiles (`a_Modelfile=` is the file `a.Modelfile`)."""
        files = {name.replace("_", "."): content for name, content in modelfiles.items()}
        for name, content in {**files, "models.list": text}.items():
            tmp = self.dir / f".{name}.tmp"
            tmp.write_text(content)
            tmp.replace(self.dir / name)  # atomic, like a ConfigMap update
        return self


def spec(sandbox: Sandbox, text: str, **modelfiles: str) -> Spec:
    return Spec(sandbox).write(text, **modelfiles)


def pull_spec(sandbox: Sandbox, text: str, modelfiles: dict[str, str] | None = None, **extra: str) -> Result:
    directory = spec(sandbox, text, **(modelfiles or {})).dir
    return sandbox.run("model-pull.sh", OLLAMA_MODELS_SPEC_DIR=str(directory), **extra)


def registry_contacts(sandbox: Sandbox) -> list[dict]:
    log = sandbox.state / "registry.log"
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def reset_logs(sandbox: Sandbox) -> None:
    sandbox.reset_calls()
    (sandbox.state / "registry.log").unlink(missing_ok=True)


def commands(sandbox: Sandbox, name: str) -> list[list[str]]:
    return [call for call in sandbox.calls() if call[:1] == [name]]


# --------------------------------------------------------------------------- model-pull.sh with models.list


def test_restart_with_the_models_present_pulls_nothing(sandbox: Sandbox) -> None:
    text = "# models\npull phi\n\npull llama3.2:1b   # a second one\n"
    first = pull_spec(sandbox, text)
    assert first.rc == 0, first.out
    assert len(first.lines("[model-pull] pulled ")) == 2
    reset_logs(sandbox)

    # The restart needs no registry at all, and does not follow a re-published tag.
    second = pull_spec(sandbox, text, STANDIN_OLLAMA_REGISTRY_DOWN="1", STANDIN_OLLAMA_REPUBLISHED="*")

    assert second.rc == 0, second.out
    assert "[model-pull] phi:latest is present on the volume, not pulling" in second.out
    assert "[model-pull] llama3.2:1b is present on the volume, not pulling" in second.out
    assert second.out.rstrip().endswith("[model-pull] all 2 model(s) are on the volume")
    assert sandbox.pulls() == []
    assert registry_contacts(sandbox) == []
    assert_server_stopped(sandbox, second)


def test_pinned_digest_on_disk_never_contacts_the_registry(sandbox: Sandbox) -> None:
    pin = published_digest("phi")
    sandbox.seed("phi")
    assert digest_of_file(sandbox.manifest(PHI)) == pin
    reset_logs(sandbox)

    # Down and re-published: either would break a run that contacted the registry.
    result = pull_spec(
        sandbox, f"pull phi digest={pin}\n", STANDIN_OLLAMA_REGISTRY_DOWN="1", STANDIN_OLLAMA_REPUBLISHED="phi"
    )

    assert result.rc == 0, result.out
    assert f"[model-pull] phi:latest is on the volume with the pinned digest {pin}; not contacting the registry" in result.out
    assert f"[model-pull] phi:latest is ready (id {pin[7:19]})" in result.out
    assert sandbox.pulls() == []
    assert registry_contacts(sandbox) == []
    assert ["show", "phi:latest"] in sandbox.calls()  # still verified through the server


@pytest.mark.parametrize("on_disk", [None, "0"], ids=["absent", "older-version-on-disk"])
def test_pinned_digest_not_on_disk_is_pulled_and_verified(sandbox: Sandbox, on_disk: str | None) -> None:
    pin = published_digest("phi")
    if on_disk is not None:
        sandbox.seed("phi", STANDIN_OLLAMA_REGISTRY_VERSION=on_disk)
        old = digest_of_file(sandbox.manifest(PHI))
        assert old != pin
    reset_logs(sandbox)

    result = pull_spec(sandbox, f"pull phi digest={pin}\n")

    assert result.rc == 0, result.out
    if on_disk is None:
        assert f"[model-pull] phi:latest is not on the volume; pulling it (pinned to {pin})" in result.out
    else:
        assert f"[model-pull] phi:latest on the volume has digest {old}, not the pinned {pin}; pulling it" in result.out
    assert f"[model-pull] phi:latest has the pinned digest {pin}" in result.out
    assert sandbox.pulls() == [["pull", "phi:latest"]]
    assert digest_of_file(sandbox.manifest(PHI)) == pin


def test_digest_mismatch_fails_and_removes_the_model(sandbox: Sandbox) -> None:
    pin = published_digest("phi")
    served = published_digest("phi", "1-republished")
    result = pull_spec(
        sandbox, f"pull phi digest={pin} alias=assistant-base:v1\n", STANDIN_OLLAMA_REPUBLISHED="phi"
    )

    assert result.rc == 1
    (error,) = result.lines("ERROR:")
    assert error == (
        f"[model-pull] ERROR: digest mismatch for phi:latest: expected {pin}, but the registry served {served}; "
        "removed phi:latest from the volume so that it is never served"
    )
    assert f"[model-pull] removing phi:latest: its digest {served} is not the pinned {pin}" in result.out
    assert ["rm", "phi:latest"] in sandbox.calls()
    assert not sandbox.manifest(PHI).exists()
    assert not commands(sandbox, "cp")  # the alias is never made from the wrong model
    assert_server_stopped(sandbox, result)


def test_internal_registry_insecure_pull_with_alias(sandbox: Sandbox) -> None:
    text = f"pull {INTERNAL} insecure alias=phi\n"
    result = pull_spec(sandbox, text, **HTTP_ONLY)

    assert result.rc == 0, result.out
    assert f"[model-pull] pulling {INTERNAL} over plain HTTP (--insecure) (attempt 1 of 3)" in result.out
    assert f"[model-pull] copying {INTERNAL} to its alias phi:latest" in result.out
    assert sandbox.pulls() == [["pull", "--insecure", INTERNAL]]
    assert ["cp", INTERNAL, "phi:latest"] in sandbox.calls()
    assert ["show", "phi:latest"] in sandbox.calls()
    assert registry_contacts(sandbox) == [{"model": INTERNAL, "insecure": True, "via": "pull"}]
    source = sandbox.manifest(INTERNAL_PATH).read_bytes()
    assert sandbox.manifest(PHI).read_bytes() == source  # `ollama cp` is a byte copy: same digest
    with sandbox.server(**HTTP_ONLY):
        shown = sandbox.ollama("show", "phi")
        listing = sandbox.ollama("list").stdout
    assert shown.returncode == 0, shown.stderr
    assert f"[model-pull] {INTERNAL} is ready as phi:latest (id {hashlib.sha256(source).hexdigest()[:12]})" in result.out
    assert re.search(r"^phi:latest\s", listing, re.MULTILINE) and INTERNAL in listing

    # Restart with a tampered alias: copied again, nothing pulled.
    sandbox.manifest(PHI).write_text(json.dumps(json.loads(source), indent=1))  # same model, other bytes
    reset_logs(sandbox)
    again = pull_spec(sandbox, text, **HTTP_ONLY)

    assert again.rc == 0, again.out
    assert f"[model-pull] {INTERNAL} is present on the volume, not pulling" in again.out
    assert f"[model-pull] copying {INTERNAL} to its alias phi:latest (the alias had digest sha256:" in again.out
    assert sandbox.pulls() == []
    assert sandbox.manifest(PHI).read_bytes() == source


def test_create_from_a_modelfile_after_its_base(sandbox: Sandbox) -> None:
    text = "pull phi\ncreate assistant:v1 modelfile=assistant.Modelfile\n"
    result = pull_spec(sandbox, text, {"assistant_Modelfile": MODELFILE})
    modelfile = sandbox.root / "spec" / "assistant.Modelfile"

    assert result.rc == 0, result.out
    assert f"[model-pull] creating assistant:v1 from {modelfile}" in result.out
    assert re.search(r"\[model-pull\] assistant:v1 is ready \(id [0-9a-f]{12}\)", result.out)
    assert result.out.rstrip().endswith("[model-pull] all 2 model(s) are on the volume")
    calls = sandbox.calls()
    assert calls.index(["pull", "phi:latest"]) < calls.index(["create", "assistant:v1", "-f", str(modelfile)])
    assert ["show", "assistant:v1"] in calls
    assert [c["via"] for c in registry_contacts(sandbox)] == ["pull"]  # the base was there for create
    created = sandbox.manifest("registry.ollama.ai/library/assistant/v1")
    layers = {layer["mediaType"].rsplit(".", 1)[-1]: layer for layer in json.loads(created.read_bytes())["layers"]}

    def blob(kind: str) -> str:
        return (sandbox.models / "blobs" / layers[kind]["digest"].replace(":", "-")).read_text()

    # createModel: the base's weights are shared (same digest, "from" the base), the other instructions
    # are layers of their own (setSystem, setTemplate, setParameters merges the base's parameters).
    base = {layer["mediaType"]: layer for layer in json.loads(sandbox.manifest(PHI).read_bytes())["layers"]}
    assert layers["model"]["digest"] == base["application/vnd.ollama.image.model"]["digest"]
    assert layers["model"]["from"] == "phi:latest"
    assert blob("system") == "You are a terse\nassistant."
    assert blob("template") == "{{ .Prompt }}"
    assert json.loads(blob("params")) == {"stop": ["<|end|>"], "temperature": 0.2}
    before = created.read_bytes()

    # A restart runs create again (cheap, idempotent): same Modelfile, same model; nothing pulled.
    reset_logs(sandbox)
    again = pull_spec(sandbox, text, {"assistant_Modelfile": MODELFILE})
    assert again.rc == 0, again.out
    assert sandbox.pulls() == []
    assert len(commands(sandbox, "create")) == 1
    assert created.read_bytes() == before


@pytest.mark.parametrize(
    ("text", "modelfiles", "message"),
    [
        (
            "pull phi\ncreate assistant:v1 modelfile=missing.Modelfile\n",
            {},
            # The CLI would say "no Modelfile or safetensors files found" (cmd/cmd.go getModelfileName reads a
            # missing file as "FROM ."), so the script checks the file itself and says what is missing.
            "cannot create assistant:v1: its Modelfile {spec}/missing.Modelfile is missing (is it a key of the model "
            "list's ConfigMap?)",
        ),
        (  # create's auto-pull of the base is never --insecure: pull an internal base first
            "create assistant:v1 modelfile=a.Modelfile\n",
            {"a_Modelfile": f"FROM {INTERNAL}\n"},
            'failed to create assistant:v1 from {spec}/a.Modelfile: pull model manifest: Get "https://registry.corp:5000/'
            'v2/library/phi/manifests/latest": http: server gave HTTP response to HTTPS client',
        ),
        (
            "create assistant:v1 modelfile=a.Modelfile\n",
            {"a_Modelfile": "FROM phi\nSYSTEMS hello\n"},
            "failed to create assistant:v1 from {spec}/a.Modelfile: (line 2): command must be one of",
        ),
    ],
    ids=["missing-modelfile", "insecure-base-not-pulled", "bad-instruction"],
)
def test_create_failure_fails_the_init_container(
    sandbox: Sandbox, text: str, modelfiles: dict[str, str], message: str
) -> None:
    result = pull_spec(sandbox, text, modelfiles, **HTTP_ONLY)

    assert result.rc == 1
    (error,) = result.lines("ERROR:")
    assert error.startswith("[model-pull] ERROR: " + message.format(spec=sandbox.root / "spec")), error
    assert not sandbox.manifest("registry.ollama.ai/library/assistant/v1").exists()
    assert_server_stopped(sandbox, result)


GOOD = "sha256:" + "a" * 64


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("fetch phi", "unknown entry 'fetch' (expected 'pull' or 'create')"),
        ("pull", "'pull' needs a model reference"),
        (f"pull phi@{GOOD}", f"invalid model reference 'phi@{GOOD}': Ollama cannot pull by digest"),
        ("pull a/b/c/d", "invalid model reference 'a/b/c/d' (expected [host[:port]/namespace/]name[:tag])"),
        ("pull phi digest=sha256:abc", "invalid digest 'sha256:abc' (expected digest=sha256:<64 lower-case hex>)"),
        ("pull phi digest=sha256:" + "A" * 64, "invalid digest 'sha256:" + "A" * 64 + "'"),
        ("pull phi alias=bad..name/x:y:z", "invalid alias 'bad..name/x:y:z'"),
        ("pull phi alias=phi:latest", "alias 'phi:latest' is the model reference itself"),
        ("pull phi insecure insecure", "option 'insecure' is given twice"),
        ("pull phi mirror=x", "unknown option 'mirror=x' for 'pull'"),
        ("create assistant", "'create assistant:latest' needs modelfile=<file name>"),
        ("create assistant modelfile=../Modelfile", "modelfile '../Modelfile' must be the name of a file in"),
        ("create assistant:v1 modelfile=a file=b", "unknown option 'file=b' for 'create'"),
        ("pull llama3.2:1b alias=phi", "'phi:latest' is already defined on {list} line 2"),
        ("create phi modelfile=a", "'phi:latest' is already defined on {list} line 2"),
    ],
)
def test_invalid_models_list_line_is_a_configuration_error(sandbox: Sandbox, line: str, message: str) -> None:
    listing = sandbox.root / "spec" / "models.list"
    result = pull_spec(sandbox, f"# the models\npull phi\n\n{line}\npull llama3.2:3b\n")

    assert result.rc == 2
    assert f"[model-pull] ERROR: {listing} line 4: {message.format(list=listing)}" in result.out, result.out
    assert result.out.rstrip().endswith(f"[model-pull] ERROR: {listing} has 1 invalid line(s)")
    assert sandbox.calls() == []  # not even a server was started


@pytest.mark.parametrize(
    ("setup", "extra", "message"),
    [
        ("pull phi\n", {"OLLAMA_PULL_MODELS": "phi"}, "set either OLLAMA_MODELS_SPEC_DIR or OLLAMA_PULL_MODELS, not both"),
        (None, {}, "cannot read {dir}/models.list (OLLAMA_MODELS_SPEC_DIR)"),
        ("# nothing yet\n\n", {}, "{dir}/models.list lists no models"),
        ("pull phi\n", {"OLLAMA_PULL_LOCK_TIMEOUT_SECONDS": "soon"}, "OLLAMA_PULL_LOCK_TIMEOUT_SECONDS must be a non-negative"),
    ],
    ids=["both-lists", "no-models-list", "empty-list", "bad-lock-timeout"],
)
def test_model_list_configuration_errors(sandbox: Sandbox, setup: str | None, extra: dict, message: str) -> None:
    directory = sandbox.root / "spec"
    directory.mkdir()
    if setup is not None:
        spec(sandbox, setup)

    result = sandbox.run("model-pull.sh", OLLAMA_MODELS_SPEC_DIR=str(directory), **extra)

    assert result.rc == 2
    assert f"[model-pull] ERROR: {message.format(dir=directory)}" in result.out, result.out
    assert sandbox.calls() == []


def test_transient_errors_are_retried_for_a_pinned_model(sandbox: Sandbox) -> None:
    pin = published_digest("phi")
    result = pull_spec(sandbox, f"pull phi digest={pin}\n", STANDIN_OLLAMA_PULL_FAIL_TRANSIENT_COUNT="2")

    assert result.rc == 0, result.out
    for attempt in (1, 2):
        (line,) = result.lines(f"attempt {attempt} of 3 to pull phi:latest failed")
        assert "connection reset by peer" in line
    assert f"[model-pull] phi:latest has the pinned digest {pin}" in result.out
    assert len(sandbox.pulls()) == 3


def test_permanent_error_exits_clearly_and_releases_the_lock(sandbox: Sandbox) -> None:
    lock = sandbox.models / ".pull.lock"
    result = pull_spec(
        sandbox,
        "pull phi\npull nosuch:7b\n",
        STANDIN_OLLAMA_PULL_FAIL_PERMANENT="nosuch:7b",
        OLLAMA_PULL_LOCK=str(lock),
    )

    assert result.rc == 1
    (error,) = result.lines("ERROR:")
    assert error == (
        "[model-pull] ERROR: failed to pull nosuch:7b after 1 attempt(s); "
        "last error from ollama: pull model manifest: file does not exist"
    )
    assert f"[model-pull] acquired the pull lock {lock}" in result.out
    assert f"[model-pull] released the pull lock {lock}" in result.out
    assert not lock.exists()
    assert sandbox.manifest(PHI).is_file()
    assert_server_stopped(sandbox, result)


# --------------------------------------------------------------------------- the pull lock


class Running:
    """A script running in the background, its output collected line by line."""

    def __init__(self, sandbox: Sandbox, script: str, **extra: str):
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            ["bash", str(SCRIPTS / script)],
            env=sandbox.env_with(extra),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
        )
        self.output: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.output.append(line)

    @property
    def out(self) -> str:
        return "".join(self.output)

    def wait_for(self, needle: str | re.Pattern, timeout: float = 10, count: int = 1) -> float:
        """Wait until `needle` is in `count` output lines; returns the time it took."""
        deadline = time.monotonic() + timeout
        while True:
            lines = list(self.output)
            hits = [line for line in lines if (needle.search(line) if isinstance(needle, re.Pattern) else needle in line)]
            if len(hits) >= count:
                return time.monotonic() - self.started
            assert self.proc.poll() is None or self.reader.is_alive(), f"exited {self.proc.returncode}:\n{self.out}"
            assert time.monotonic() < deadline, f"no {needle!r} (x{count}) within {timeout}s:\n{self.out}"
            time.sleep(0.05)

    def finish(self, timeout: float = 20) -> Result:
        rc = self.proc.wait(timeout=timeout)
        self.reader.join(timeout=5)
        return Result(rc, self.out, time.monotonic() - self.started)

    def terminate(self) -> Result:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.finish(timeout=10)


@pytest.fixture
def running() -> Iterator[list[Running]]:
    started: list[Running] = []
    yield started
    for item in started:
        if item.proc.poll() is None:
            item.proc.kill()
            item.proc.wait()


def test_lock_serializes_two_pulls_on_a_shared_volume(sandbox: Sandbox, running: list[Running]) -> None:
    lock = sandbox.models / ".pull.lock"
    directory = spec(sandbox, "pull phi\n").dir
    env = {
        "OLLAMA_MODELS_SPEC_DIR": str(directory),
        "OLLAMA_PULL_LOCK": str(lock),
        "OLLAMA_PULL_LOCK_TIMEOUT_SECONDS": "30",
        "STANDIN_OLLAMA_PULL_DELAY_SECONDS": "1",
    }
    first = Running(sandbox, "model-pull.sh", **env)
    running.append(first)
    first.wait_for("acquired the pull lock")
    holder = (lock / "owner").read_text().strip()
    assert re.fullmatch(rf"\S+ pid {first.proc.pid} since \d+", holder), holder
    second = Running(sandbox, "model-pull.sh", **env)
    running.append(second)

    one, two = first.finish(), second.finish()

    assert one.rc == 0, one.out
    assert two.rc == 0, two.out
    assert "[model-pull] pulled phi:latest" in one.out
    assert f"[model-pull] waiting up to 30s for the pull lock {lock} held by {holder}" in two.out
    assert "[model-pull] phi:latest is present on the volume, not pulling" in two.out
    assert sandbox.pulls() == [["pull", "phi:latest"]]
    assert sandbox.calls().count(["serve"]) == 2  # one after the other: the second would not bind otherwise
    assert "address already in use" not in one.out + two.out
    assert not lock.exists()


def make_lock(lock: Path, owner: str, age: float) -> None:
    lock.mkdir(parents=True)
    (lock / "owner").write_text(owner + "\n")
    stamp = time.time() - age
    os.utime(lock / "owner", (stamp, stamp))
    os.utime(lock, (stamp, stamp))


def test_stale_lock_is_taken_over(sandbox: Sandbox) -> None:
    lock = sandbox.models / ".pull.lock"
    make_lock(lock, "ollama-7d9f-abcde pid 17 since 1700000000", age=120)

    result = pull_spec(sandbox, "pull phi\n", OLLAMA_PULL_LOCK=str(lock), OLLAMA_PULL_LOCK_TIMEOUT_SECONDS="60")

    assert result.rc == 0, result.out
    (line,) = result.lines("taking over")
    assert re.fullmatch(
        rf"\[model-pull\] taking over the stale pull lock {re.escape(str(lock))} held by "
        r"ollama-7d9f-abcde pid 17 since 1700000000 \(not refreshed for 1[23]\ds, more than 60s\)",
        line,
    ), line
    assert result.out.index("taking over") < result.out.index("acquired the pull lock")
    assert "[model-pull] pulled phi:latest" in result.out
    assert not lock.exists()
    assert not list(sandbox.models.glob(".pull.lock*"))


def test_waiting_for_a_live_lock_has_a_deadline(sandbox: Sandbox) -> None:
    lock = sandbox.models / ".pull.lock"
    make_lock(lock, "other-pod pid 99 since 1700000000", age=0)
    stop = threading.Event()

    def heartbeat() -> None:  # the holder is alive and refreshes its lock
        while not stop.wait(0.2):
            os.utime(lock / "owner")

    thread = threading.Thread(target=heartbeat, daemon=True)
    thread.start()
    try:
        result = pull_spec(sandbox, "pull phi\n", OLLAMA_PULL_LOCK=str(lock), OLLAMA_PULL_LOCK_TIMEOUT_SECONDS="2")
    finally:
        stop.set()
        thread.join()

    assert result.rc == 1
    assert result.out.rstrip().endswith(
        f"[model-pull] ERROR: timed out after 2s waiting for the pull lock {lock} held by other-pod pid 99 since 1700000000"
    )
    assert 1 <= result.elapsed < 10  # the deadline is kept (a loaded machine adds seconds, not minutes)
    assert sandbox.calls() == []  # no server, no pull
    assert (lock / "owner").read_text() == "other-pod pid 99 since 1700000000\n"  # not ours to remove


# --------------------------------------------------------------------------- model-manager.sh


def manager_env(sandbox: Sandbox, **extra: str) -> dict[str, str]:
    return {
        "OLLAMA_MODELS_SPEC_DIR": str(sandbox.root / "spec"),
        "OLLAMA_MANAGER_INTERVAL_SECONDS": "0.2",
        "OLLAMA_PULL_RETRY_DELAY_SECONDS": "1",
        **extra,
    }


def run_manager_once(sandbox: Sandbox, **extra: str) -> Result:
    return sandbox.run("model-manager.sh", **manager_env(sandbox, OLLAMA_MANAGER_ONESHOT="1", **extra))


def test_manager_pulls_added_models_and_removes_unlisted_ones(sandbox: Sandbox, running: list[Running]) -> None:
    listing = spec(sandbox, "pull phi\n")
    with sandbox.server():
        manager = Running(sandbox, "model-manager.sh", **manager_env(sandbox, OLLAMA_MANAGER_REMOVE_UNLISTED="1"))
        running.append(manager)
        manager.wait_for("[model-manager] all 1 model(s) of models.list are in place")

        listing.write("pull phi\npull llama3.2:1b\n")
        manager.wait_for("[model-manager] all 2 model(s) of models.list are in place")
        pulled = sandbox.manifest("registry.ollama.ai/library/llama3.2/1b").is_file()

        listing.write("pull phi\n")
        manager.wait_for("[model-manager] removed llama3.2:1b")
        listed = sandbox.ollama("list").stdout
        result = manager.terminate()

    assert result.rc == 0, result.out
    assert "[model-manager] reconciling pull phi:latest (models.list line 1): the server does not have it" in result.out
    assert "[model-manager] reconciling pull llama3.2:1b (models.list line 2): the server does not have it" in result.out
    assert pulled
    assert "[model-manager] removing llama3.2:1b: not in models.list (OLLAMA_MANAGER_REMOVE_UNLISTED=1)" in result.out
    assert not sandbox.manifest("registry.ollama.ai/library/llama3.2/1b").exists()
    assert "phi:latest" in listed and "llama3.2:1b" not in listed
    assert sandbox.pulls() == [["pull", "phi:latest"], ["pull", "llama3.2:1b"]]  # each once, no re-pulls
    assert commands(sandbox, "rm") == [["rm", "llama3.2:1b"]]
    for line in result.out.splitlines():
        assert line.startswith("[model-manager] "), line


def test_manager_keeps_unlisted_models_by_default(sandbox: Sandbox) -> None:
    sandbox.seed("phi", "llama3.2:1b")
    spec(sandbox, "pull phi\n")
    reset_logs(sandbox)
    with sandbox.server():
        result = run_manager_once(sandbox)
        listed = sandbox.ollama("list").stdout

    assert result.rc == 0, result.out
    assert result.out.rstrip().endswith("[model-manager] all 1 model(s) of models.list are in place")
    assert "reconciling" not in result.out
    assert commands(sandbox, "rm") == [] and sandbox.pulls() == []
    assert "llama3.2:1b" in listed


def test_manager_backs_off_a_failing_entry_without_blocking_others(sandbox: Sandbox, running: list[Running]) -> None:
    spec(sandbox, "pull nosuch:7b\npull phi\npull phi:2.7b alias=phi\n")  # the last line is invalid
    with sandbox.server(STANDIN_OLLAMA_PULL_FAIL_PERMANENT="nosuch:7b"):
        manager = Running(sandbox, "model-manager.sh", **manager_env(sandbox, OLLAMA_MANAGER_MAX_BACKOFF_SECONDS="2"))
        running.append(manager)
        manager.wait_for("(failure 3)", timeout=8)
        result = manager.terminate()

    assert result.rc == 0, result.out
    failures = result.lines("[model-manager] ERROR: failed to pull nosuch:7b after 1 attempt(s)")
    assert [re.search(r"next attempt in \d+s \(failure \d\)", line).group(0) for line in failures] == [
        "next attempt in 1s (failure 1)",
        "next attempt in 2s (failure 2)",
        "next attempt in 2s (failure 3)",  # capped at OLLAMA_MANAGER_MAX_BACKOFF_SECONDS
    ]
    assert "pull model manifest: file does not exist" in failures[0]
    # The failing entry came first, yet phi was pulled in the same pass.
    assert result.out.index("[model-manager] phi:latest is ready") < result.out.index("(failure 2)")
    pulls = sandbox.pulls()
    assert pulls.count(["pull", "nosuch:7b"]) == 3  # ~15 passes, but only 3 attempts: no spinning
    assert pulls.count(["pull", "phi:latest"]) == 1
    assert len(commands(sandbox, "list")) >= 10  # the passes went on meanwhile
    # An invalid line is reported once, not in every pass, and skipped.
    (warning,) = result.lines("WARNING:")
    listing = sandbox.root / "spec" / "models.list"
    assert warning.endswith(f"line 3: 'phi:latest' is already defined on {listing} line 2; skipping this line")


def test_manager_exits_promptly_on_sigterm(sandbox: Sandbox, running: list[Running]) -> None:
    listing = spec(sandbox, "pull phi\n")
    slow = manager_env(sandbox, OLLAMA_MANAGER_INTERVAL_SECONDS="30")
    with sandbox.server(STANDIN_OLLAMA_PULL_DELAY_SECONDS="30"):
        pulling = Running(sandbox, "model-manager.sh", **slow)
        running.append(pulling)
        pulling.wait_for("[model-manager] pulling phi:latest")  # a pull that takes 30s
        time.sleep(0.3)
        sent = time.monotonic()
        during_pull = pulling.terminate()
        took_during_pull = time.monotonic() - sent
        leftover = [pid for pid in standin_pids(sandbox) if b"pull" in Path(f"/proc/{pid}/cmdline").read_bytes()]

        listing.write("# nothing to do\n")
        idle = Running(sandbox, "model-manager.sh", **slow)
        running.append(idle)
        idle.wait_for("[model-manager] all 0 model(s) of models.list are in place; checking again every 30s")
        sent = time.monotonic()
        between_passes = idle.terminate()
        took_between_passes = time.monotonic() - sent

    for result, took in ((during_pull, took_during_pull), (between_passes, took_between_passes)):
        assert result.rc == 0, result.out
        assert took < 8, (took, result.out)  # promptly: the interval is 30 s and the pull far longer
        assert result.out.rstrip().endswith("[model-manager] received SIGTERM; exiting")
    assert not leftover, "the pull the manager was waiting for still runs"


def standin_pids(sandbox: Sandbox) -> list[int]:
    """Stand-in processes of this sandbox, after their children had a moment to exit."""
    time.sleep(0.3)
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            environ = (proc / "environ").read_bytes()
            cmdline = (proc / "cmdline").read_bytes()
        except OSError:
            continue
        if f"STANDIN_OLLAMA_STATE_DIR={sandbox.state}".encode() in environ and b"standin/ollama" in cmdline:
            if process_alive(int(proc.name)):
                found.append(int(proc.name))
    return found


def test_manager_restores_a_missing_alias_without_pulling(sandbox: Sandbox) -> None:
    pin = published_digest(INTERNAL)
    spec(sandbox, f"pull {INTERNAL} digest={pin} alias=phi:latest insecure\n")
    with sandbox.server(**HTTP_ONLY):
        first = run_manager_once(sandbox)
        assert sandbox.ollama("rm", "phi:latest").returncode == 0
        reset_logs(sandbox)
        second = run_manager_once(sandbox)
        shown = sandbox.ollama("show", "phi:latest")

    assert first.rc == 0, first.out
    assert f"[model-manager] {INTERNAL} has the pinned digest {pin}" in first.out
    assert second.rc == 0, second.out
    assert f"[model-manager] reconciling pull {INTERNAL} (models.list line 1): its alias phi:latest is missing" in second.out
    assert f"[model-manager] {INTERNAL} is on the volume with the pinned digest {pin}; not contacting the registry" in second.out
    assert registry_contacts(sandbox) == []
    assert commands(sandbox, "cp") == [["cp", INTERNAL, "phi:latest"]]
    assert shown.returncode == 0
    assert digest_of_file(sandbox.manifest(PHI)) == pin


def test_manager_rebuilds_a_created_model_when_its_modelfile_changes(sandbox: Sandbox, running: list[Running]) -> None:
    listing = spec(sandbox, "pull phi\ncreate assistant:v1 modelfile=a.Modelfile\n", a_Modelfile=MODELFILE)
    created = sandbox.manifest("registry.ollama.ai/library/assistant/v1")
    with sandbox.server():
        manager = Running(sandbox, "model-manager.sh", **manager_env(sandbox))
        running.append(manager)
        manager.wait_for("[model-manager] all 2 model(s) of models.list are in place")
        first = created.read_bytes()
        passes = len(commands(sandbox, "list"))
        while len(commands(sandbox, "list")) < passes + 3:  # a few quiet passes
            time.sleep(0.1)
        creates_while_quiet = len(commands(sandbox, "create"))

        listing.write(listing.dir.joinpath("models.list").read_text(), a_Modelfile=MODELFILE + "PARAMETER top_k 10\n")
        manager.wait_for("[model-manager] assistant:v1 is ready", count=2)
        result = manager.terminate()

    assert result.rc == 0, result.out
    assert "[model-manager] reconciling create assistant:v1 (models.list line 2): the server does not have it" in result.out
    assert "[model-manager] reconciling create assistant:v1 (models.list line 2): its Modelfile changed" in result.out
    assert creates_while_quiet == 1
    assert len(commands(sandbox, "create")) == 2
    assert created.read_bytes() != first
    assert sandbox.pulls() == [["pull", "phi:latest"]]


def test_manager_skips_invalid_lines_and_then_removes_nothing(sandbox: Sandbox) -> None:
    sandbox.seed("llama3.2:1b")
    listing = spec(sandbox, "pull phi\npull phi@sha256:abc\nfrobnicate x\n").dir / "models.list"
    with sandbox.server():
        result = run_manager_once(sandbox, OLLAMA_MANAGER_REMOVE_UNLISTED="1")
        listed = sandbox.ollama("list").stdout

    assert result.rc == 1  # not converged while lines are invalid
    assert (
        f"[model-manager] WARNING: {listing} line 2: invalid model reference 'phi@sha256:abc': "
        "Ollama cannot pull by digest; pin it with digest=sha256:<64 hex>; skipping this line"
    ) in result.out
    assert f"[model-manager] WARNING: {listing} line 3: unknown entry 'frobnicate'" in result.out
    assert "[model-manager] phi:latest is ready" in result.out
    assert "[model-manager] not removing unlisted models while models.list has 2 invalid line(s)" in result.out
    assert "llama3.2:1b" in listed and commands(sandbox, "rm") == []


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"OLLAMA_MODELS_SPEC_DIR": ""}, "OLLAMA_MODELS_SPEC_DIR must name the directory holding models.list"),
        ({"OLLAMA_MANAGER_INTERVAL_SECONDS": "0"}, "OLLAMA_MANAGER_INTERVAL_SECONDS must be more than 0"),
        ({"OLLAMA_MANAGER_MAX_BACKOFF_SECONDS": "5m"}, "OLLAMA_MANAGER_MAX_BACKOFF_SECONDS must be a non-negative"),
        ({"OLLAMA_MANAGER_REMOVE_UNLISTED": "sometimes"}, "OLLAMA_MANAGER_REMOVE_UNLISTED must be 0 or 1"),
    ],
)
def test_manager_rejects_bad_configuration(sandbox: Sandbox, extra: dict[str, str], message: str) -> None:
    result = sandbox.run("model-manager.sh", **{**manager_env(sandbox), **extra})

    assert result.rc == 2
    assert result.out.startswith(f"[model-manager] ERROR: {message}")
    assert sandbox.calls() == []


def test_manager_keeps_the_base_of_a_quoted_from_and_names_in_another_case(sandbox: Sandbox) -> None:
    """parser/parser.go unquotes `FROM "x"`, and Ollama treats names that differ in case as one model."""
    sandbox.seed("phi", "llama3.2:1b", "qwen2:0.5b")
    spec(sandbox, "pull LLAMA3.2:1B\ncreate bot:v1 modelfile=b.Modelfile\n", b_Modelfile='FROM "phi"\nSYSTEM hi\n')
    with sandbox.server():
        assert sandbox.ollama("create", "bot:v1", "-f", str(sandbox.root / "spec" / "b.Modelfile")).returncode == 0
        reset_logs(sandbox)
        result = run_manager_once(sandbox, OLLAMA_MANAGER_REMOVE_UNLISTED="1")
        listed = sandbox.ollama("list").stdout

    assert "[model-manager] removing qwen2:0.5b: not in models.list" in result.out
    assert commands(sandbox, "rm") == [["rm", "qwen2:0.5b"]], "the quoted FROM model and the other-case name stay"
    assert "phi:latest" in listed and "llama3.2:1b" in listed
    assert sandbox.pulls() == [], "LLAMA3.2:1B is the llama3.2:1b on disk"


def test_a_model_listed_twice_in_another_case_is_refused(sandbox: Sandbox) -> None:
    result = pull_spec(sandbox, "pull phi\npull PHI:latest\n")

    assert result.rc == 2
    assert "'PHI:latest' is already defined on" in result.out
