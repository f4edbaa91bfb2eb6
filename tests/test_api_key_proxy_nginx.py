"""ApiKeyProxy's shipped nginx.conf and entrypoint.sh, run with the real nginx against a stand-in Ollama.

What runs is what the construct ships: both files are taken from the synthesized ConfigMap. Only what
exists in the pod alone is changed, and each change is checked to hit text the construct rendered:

* in nginx.conf (one pass of plain string replacement, in `run_entrypoint`):
    `listen 8080;`                          -> `listen 127.0.0.1:<free port>;`
    `server ollama-phi:80;` (the upstream)  -> `server 127.0.0.1:<stand-in port>;`
    ` /tmp/` (pid and temp paths)            -> ` <sandbox>/nginx-tmp/`
    `/run/ollama-auth/api-keys.map`         -> `<sandbox>/api-keys.map`
  Everything else (the maps, the 401 answer, the headers, buffering, timeouts, logging) is untouched;
  `Host` stays `ollama-phi.team.svc`, so the stand-in sees what Ollama would.
* entrypoint.sh is not changed at all: the paths it uses come from its environment, as in the pod
  (OLLAMA_AUTH_KEYS_FILE, OLLAMA_AUTH_MAP_FILE, OLLAMA_AUTH_NGINX_CONF point into the sandbox), and PATH
  leads to the nginx binary. The key file is laid out as the kubelet lays out a Secret volume, and
  rotated the way the kubelet updates one (`write_secret_volume`). It runs under the system's `sh`, and under `busybox sh` (the shell of the
  Alpine nginx image) where busybox is installed.

When the tests run as root, nginx runs as `nobody` (the pod runs it as a non-root user too), so a path
the config forgot to move off the read-only root filesystem fails here (nobody may write there) as it
would in the pod.

The upstream is `StandInOllama`, **not Ollama**: a small Python HTTP server on 127.0.0.1 that answers
`/api/chat` with a chunked NDJSON stream whose chunks come with delays, and echoes whether a request
carried an Authorization header. All traffic stays on 127.0.0.1; every wait is bounded; every process
is stopped at the end.

nginx is the test root's (sid's nginx 1.30 with njs 1.0, the versions of the pinned image; see
tests/support/tools.py and scripts/install-test-root.sh). Without it these tests are skipped, except under
CI (`CI` set), where a missing nginx fails them.
"""

from __future__ import annotations

import http.client
import json
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import cdk8s
import pytest

from tests.support import tools

from ollama_constructs import OllamaServer, OllamaServerProps
from ollama_constructs import api_key_proxy as akp
from ollama_constructs.api_key_proxy import ApiKeyProxy, ApiKeyProxyProps

UPSTREAM = "ollama-phi"
START_TIMEOUT = 15.0
HTTP_TIMEOUT = 10.0
CHUNKS = 5
CHUNK_DELAY = 0.4

# Fixed test keys (not secrets), so that the test ids stay the same from run to run.
KEY = "p-z_AnDLBzIfupnUYQFFXAhTa0425R5nWUht7B8lrKw"
"""A key as `secrets.token_urlsafe(32)` makes them."""
SPECIAL_KEY = "Zz09._~+/=-ef17e9f35cb408cc"
"""A key using every character outside letters and digits that the entrypoint accepts."""
LONG_KEY = "k" * 192 + "3f1c9a7be2d84c05a6e1f0b9c8d7e6f5a4b3c2d1e0f9a8b73f1c9a7be2d84c05"
"""A key of the longest accepted length (256)."""
CRLF_KEY = "9d3a6c1e5b7f2048aa11bb22cc33dd44"
"""A key on a line that ends in CRLF and has blanks around it."""
KEYS = (KEY, SPECIAL_KEY, LONG_KEY, CRLF_KEY)
KEY_FILE = (
    "# API keys of the team\n"
    "\n"
    f"{KEY}\n"
    f"   {SPECIAL_KEY}\t\n"
    "  # a comment after blanks\n"
    f"{LONG_KEY}\n"
    f" {CRLF_KEY} \r\n"
    f"{KEY}\n"  # listed twice: nginx would refuse a duplicate map entry
)


def require(tool: str, why: str) -> str:
    """A program of this machine; skipped without it, except under CI, where it fails (tests/support/tools.py)."""
    return tools.host_tool(tool, why)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- the stand-in upstream -------------------------------------------------------------------------


@dataclass
class Seen:
    """One request as the stand-in received it."""

    method: str
    path: str
    authorization: bool
    host: str
    body_length: int


@dataclass
class StandInOllama:
    """A stand-in for the Ollama API (not Ollama), on 127.0.0.1, recording what it receives."""

    server: ThreadingHTTPServer
    seen: list[Seen] = field(default_factory=list)
    chunk_sent_at: list[float] = field(default_factory=list)

    @property
    def port(self) -> int:
        return self.server.server_address[1]


def start_stand_in() -> StandInOllama:
    stand_in: StandInOllama

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:  # keep the test output clean
            pass

        def _record(self) -> Seen:
            length = int(self.headers.get("Content-Length") or 0)
            remaining = length
            while remaining:
                remaining -= len(self.rfile.read(min(remaining, 1 << 20)))
            seen = Seen(
                self.command, self.path, "Authorization" in self.headers, self.headers.get("Host", ""), length
            )
            stand_in.seen.append(seen)
            return seen

        def _json(self, payload: dict) -> None:
            body = json.dumps(payload).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            seen = self._record()
            self._json({"models": [], "authorization_received": seen.authorization, "host": seen.host})

        def do_POST(self) -> None:
            seen = self._record()
            if self.path != "/api/chat":
                self._json({"authorization_received": seen.authorization, "body_length": seen.body_length})
                return
            chunks = int(self.headers.get("X-Test-Chunks") or CHUNKS)
            self.send_response(200)
            self.send_header("Content-Type", "application/x-ndjson")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for i in range(chunks):
                if i:
                    time.sleep(CHUNK_DELAY)
                line = json.dumps(
                    {
                        "model": "phi:latest",
                        "message": {"role": "assistant", "content": f"part {i} "},
                        "done": i == chunks - 1,
                        "authorization_received": seen.authorization,
                    }
                ).encode() + b"\n"
                self.wfile.write(b"%x\r\n%s\r\n" % (len(line), line))
                self.wfile.flush()
                stand_in.chunk_sent_at.append(time.monotonic())
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    stand_in = StandInOllama(server)
    threading.Thread(target=server.serve_forever, name="stand-in-ollama", daemon=True).start()
    return stand_in


# --- the proxy as the construct ships it ------------------------------------------------------------


def shipped_files() -> dict[str, str]:
    """The ConfigMap data of an ApiKeyProxy in front of an OllamaServer `ollama-phi`, as synthesized."""
    chart = cdk8s.Chart(cdk8s.Testing.app(), "test", namespace="team")
    server = OllamaServer(chart, "Ollama", OllamaServerProps(name=UPSTREAM))
    ApiKeyProxy(chart, "Auth", ApiKeyProxyProps(name=UPSTREAM, secret_name="keys"), upstream=server.service)
    (config_map,) = [
        m
        for m in cdk8s.Testing.synth(chart)
        if m["kind"] == "ConfigMap" and m["metadata"]["name"] == f"{UPSTREAM}-auth"
    ]
    return config_map["data"]


def replace_once_each(text: str, replacements: dict[str, str]) -> str:
    """`text` with every key replaced by its value, in one pass; each key must occur in `text`."""
    for old in replacements:
        assert old in text, f"{old!r} is not in the shipped nginx.conf: the test's substitutions are stale"
    pattern = re.compile("|".join(re.escape(old) for old in sorted(replacements, key=len, reverse=True)))
    return pattern.sub(lambda m: replacements[m[0]], text)


@dataclass
class Sandbox:
    """A temporary directory with the proxy's files, and the user nginx runs as.

    It is made with `tempfile.mkdtemp` rather than pytest's `tmp_path`, whose parents only root may
    enter: as root the tree is given to `nobody`, who runs nginx.
    """

    root: Path
    uid: int | None  # None: the current user
    gid: int | None

    @property
    def run_dir(self) -> Path:
        return self.root / "nginx-tmp"

    @property
    def map_file(self) -> Path:
        return self.root / "api-keys.map"

    @property
    def secret_dir(self) -> Path:
        """The Secret's volume, as the kubelet lays it out."""
        return self.root / "secret"

    @property
    def keys_file(self) -> Path:
        return self.secret_dir / "api-keys"

    def nginx_pid(self) -> int:
        """The nginx master's pid, from its pid file."""
        return int((self.run_dir / "nginx.pid").read_text().strip())

    def own(self) -> None:
        """Give the tree to the user nginx runs as."""
        if self.uid is None:
            return
        for path in [self.root, *self.root.rglob("*")]:
            os.chown(path, self.uid, self.gid)


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    root = Path(tempfile.mkdtemp(prefix="ollama-auth-nginx-"))
    uid = gid = None
    if os.geteuid() == 0:
        nobody = pwd.getpwnam("nobody")
        uid, gid = nobody.pw_uid, nobody.pw_gid
    root.chmod(0o755)
    box = Sandbox(root, uid, gid)
    box.run_dir.mkdir()
    try:
        yield box
    finally:
        shutil.rmtree(root, ignore_errors=True)


@dataclass
class Proxy:
    """The entrypoint (then nginx) running on 127.0.0.1:`port`."""

    process: subprocess.Popen
    port: int
    stdout: Path
    stderr: Path

    def logs(self) -> str:
        return self.stdout.read_text(errors="replace") + self.stderr.read_text(errors="replace")

    def request(
        self,
        method: str,
        path: str,
        *,
        key: str | None = None,
        authorization: str | None = None,
        body: bytes | None = None,
    ) -> tuple[http.client.HTTPResponse, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=HTTP_TIMEOUT)
        headers = {"Content-Type": "application/json"} if body is not None else {}
        if key is not None:
            headers["Authorization"] = f"Bearer {key}"
        if authorization is not None:
            headers["Authorization"] = authorization
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        data = response.read()
        conn.close()
        return response, data

    def stop(self) -> None:
        if self.process.poll() is None:
            for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
                try:
                    os.killpg(self.process.pid, sig)
                except ProcessLookupError:
                    break
                try:
                    self.process.wait(timeout=wait)
                    break
                except subprocess.TimeoutExpired:
                    continue
        # The workers share the master's process group; make sure none is left.
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def write_secret_volume(directory: Path, files: dict[str, str]) -> None:
    """Write `files` into `directory` the way the kubelet writes a Secret volume, and swap them in the way
    it updates one (k8s.io/kubernetes `pkg/volume/util/atomic_writer.go`, `AtomicWriter.Write`): the files
    go into a new timestamped directory `..<timestamp>`, a symlink `..data_tmp` to it is renamed over
    `..data` (the atomic step), each visible name is a symlink `<name> -> ..data/<name>`, and the previous
    timestamped directory is removed."""
    directory.mkdir(exist_ok=True)
    data = directory / "..data"
    old = os.readlink(data) if data.is_symlink() else None
    stamp = directory / f"..{time.strftime('%Y_%m_%d_%H_%M_%S')}.{time.monotonic_ns()}"
    stamp.mkdir()
    for name, text in files.items():
        (stamp / name).write_text(text)
        (stamp / name).chmod(0o440)
    tmp = directory / "..data_tmp"
    os.symlink(stamp.name, tmp)
    os.rename(tmp, data)
    for name in files:
        visible = directory / name
        if not visible.is_symlink():
            os.symlink(f"..data/{name}", visible)
    if old:
        shutil.rmtree(directory / old)


def run_entrypoint(
    box: Sandbox,
    files: dict[str, str],
    shell: list[str],
    nginx: str,
    upstream_port: int,
    keys: str | None,
    env: dict[str, str] | None = None,
) -> tuple[subprocess.Popen, int, Path, Path]:
    """Write the shipped files into `box` (nginx.conf localized) and the key file (unless `keys` is None)
    as the kubelet mounts a Secret (:func:`write_secret_volume`), start the entrypoint, return at once."""
    port = free_port()
    conf = replace_once_each(
        files["nginx.conf"],
        {
            f"listen {akp.PROXY_PORT};": f"listen 127.0.0.1:{port};",
            f"server {UPSTREAM}:80;": f"server 127.0.0.1:{upstream_port};",
            f" {akp.RUN_DIR}/": f" {box.run_dir}/",
            akp.MAP_FILE: str(box.map_file),
        },
    )
    left = conf.replace(str(box.root), "<sandbox>")
    for pod_path in (f" {akp.RUN_DIR}/", akp.MAP_DIR):
        assert pod_path not in left, f"{pod_path} was not moved into the sandbox"
    (box.root / "nginx.conf").write_text(conf)
    (box.root / "entrypoint.sh").write_text(files["entrypoint.sh"])
    if keys is not None:
        write_secret_volume(box.secret_dir, {"api-keys": keys})
    stdout, stderr = box.root / "stdout.log", box.root / "stderr.log"
    stdout.touch()
    stderr.touch()
    box.own()
    env = {
        "PATH": os.pathsep.join([str(Path(nginx).parent), "/usr/bin", "/bin"]),
        "LANG": "C.UTF-8",
        "OLLAMA_AUTH_KEYS_FILE": str(box.keys_file),
        "OLLAMA_AUTH_MAP_FILE": str(box.map_file),
        "OLLAMA_AUTH_NGINX_CONF": str(box.root / "nginx.conf"),
        **(env or {}),
    }
    with open(stdout, "ab") as out, open(stderr, "ab") as err:
        process = subprocess.Popen(
            [*shell, str(box.root / "entrypoint.sh")],
            cwd=box.root,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            start_new_session=True,
            user=box.uid,
            group=box.gid,
            extra_groups=[] if box.uid is not None else None,
        )
    return process, port, stdout, stderr


def wait_until_healthy(proxy: Proxy) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proxy.process.poll() is not None:
            pytest.fail(f"the proxy exited with {proxy.process.returncode}:\n{proxy.logs()}")
        try:
            response, _ = proxy.request("GET", akp.HEALTH_PATH)
            if response.status == 200:
                return
        except OSError:
            pass
        time.sleep(0.05)
    pytest.fail(f"the proxy did not answer {akp.HEALTH_PATH} within {START_TIMEOUT}s:\n{proxy.logs()}")


@pytest.fixture(scope="module")
def nginx() -> str:
    return tools.nginx()


@pytest.fixture(scope="module")
def files() -> dict[str, str]:
    return shipped_files()


@pytest.fixture
def stand_in() -> Iterator[StandInOllama]:
    stand_in = start_stand_in()
    try:
        yield stand_in
    finally:
        stand_in.server.shutdown()
        stand_in.server.server_close()


@pytest.fixture
def start_proxy(sandbox: Sandbox, files: dict[str, str], nginx: str, stand_in: StandInOllama):
    """`start_proxy(shell=["sh"])`: the shipped proxy, up and healthy, in front of the stand-in."""
    started: list[Proxy] = []

    def start(shell: list[str] | None = None, env: dict[str, str] | None = None) -> Proxy:
        process, port, stdout, stderr = run_entrypoint(
            sandbox, files, shell or [require("sh", "POSIX shell")], nginx, stand_in.port, KEY_FILE, env
        )
        proxy = Proxy(process, port, stdout, stderr)
        started.append(proxy)
        wait_until_healthy(proxy)
        return proxy

    try:
        yield start
    finally:
        for proxy in started:
            proxy.stop()


@pytest.fixture
def proxy(start_proxy) -> Proxy:
    return start_proxy()


# --- the tests ---------------------------------------------------------------------------------------


def test_healthz_answers_without_a_key(proxy: Proxy, stand_in: StandInOllama, sandbox: Sandbox) -> None:
    response, body = proxy.request("GET", "/healthz")
    assert response.status == 200
    assert body == b"ok\n"
    assert stand_in.seen == [], "nginx answers /healthz itself"
    master = sandbox.nginx_pid()
    assert Path(f"/proc/{master}/comm").read_text().strip() == "nginx"
    parent = Path(f"/proc/{master}/stat").read_text().rsplit(")", 1)[1].split()[1]
    assert int(parent) == proxy.process.pid, "the entrypoint runs nginx as its child (to reload it)"
    if sandbox.uid is not None:
        assert Path(f"/proc/{master}").stat().st_uid == sandbox.uid, "nginx runs unprivileged"


def test_no_key_gets_401_json_with_a_bearer_challenge(proxy: Proxy, stand_in: StandInOllama) -> None:
    for method, body in (("GET", None), ("POST", b'{"model":"phi","messages":[]}')):
        response, data = proxy.request(method, "/api/tags" if body is None else "/api/chat", body=body)
        assert response.status == 401
        assert response.getheader("Content-Type") == "application/json"
        assert response.getheader("WWW-Authenticate") == "Bearer"
        assert json.loads(data) == {"error": "unauthorized"}
    assert stand_in.seen == [], "refused requests never reach the upstream"


@pytest.mark.parametrize(
    "authorization",
    [
        "Bearer wrong-key-0123456789abcdef",
        f"Bearer {KEY[:-1]}",
        f"Bearer {KEY}x",
        f"Bearer {KEY.swapcase()}",  # nginx matches plain map strings in any case: the keys are regexes
        f"Bearer {SPECIAL_KEY.replace('.', 'x')}",  # `.` is escaped in the regex
        f"Bearer {SPECIAL_KEY.replace('~+', '~~')}",  # and so is `+`
        f"Bearer {SPECIAL_KEY}{KEY}",
        f"Basic {KEY}",
        f"Token {KEY}",
        f"{KEY}",
        "Bearer ",
        f"Bearer {KEY} {KEY}",
        f"Bearer #{KEY}",
    ],
    ids=[
        "unknown",
        "truncated",
        "extended",
        "other-case",
        "dot-as-wildcard",
        "plus-as-repeat",
        "two-keys-joined",
        "basic-scheme",
        "token-scheme",
        "no-scheme",
        "empty",
        "two-tokens",
        "comment-marker",
    ],
)
def test_a_wrong_key_gets_401(proxy: Proxy, stand_in: StandInOllama, authorization: str) -> None:
    response, data = proxy.request("GET", "/api/tags", authorization=authorization)
    assert response.status == 401
    assert json.loads(data) == {"error": "unauthorized"}
    assert stand_in.seen == []


def test_every_key_of_the_file_is_accepted_and_the_header_stays_at_the_proxy(
    proxy: Proxy, stand_in: StandInOllama
) -> None:
    assert len(LONG_KEY) == 256
    authorizations = [f"Bearer {key}" for key in KEYS] + [f"bearer {KEY}", f"BEARER  {KEY}"]
    for authorization in authorizations:
        response, data = proxy.request("GET", "/api/tags", authorization=authorization)
        assert response.status == 200, (authorization, data)
        answer = json.loads(data)
        assert answer["authorization_received"] is False
        assert answer["host"] == f"{UPSTREAM}.team.svc", "Host is the upstream Service's namespace-qualified name"
    assert [s.authorization for s in stand_in.seen] == [False] * len(authorizations)
    assert {s.path for s in stand_in.seen} == {"/api/tags"}


def test_a_streamed_answer_arrives_as_it_is_produced(proxy: Proxy, stand_in: StandInOllama) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=HTTP_TIMEOUT)
    try:
        body = json.dumps({"model": "phi", "messages": [{"role": "user", "content": "hi"}], "stream": True})
        headers = {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"}
        conn.request("POST", "/api/chat", body=body, headers=headers)
        response = conn.getresponse()
        assert response.status == 200
        assert response.getheader("Content-Type") == "application/x-ndjson"
        lines: list[dict] = []
        received_at: list[float] = []
        while True:
            line = response.readline()
            if not line:
                break
            received_at.append(time.monotonic())
            lines.append(json.loads(line))
    finally:
        conn.close()
    assert [line["message"]["content"] for line in lines] == [f"part {i} " for i in range(CHUNKS)]
    assert lines[-1]["done"] is True
    assert all(line["authorization_received"] is False for line in lines)
    sent_at = stand_in.chunk_sent_at
    assert len(sent_at) == CHUNKS
    # Each chunk reaches the client before the stand-in even writes the next one.
    for i in range(CHUNKS - 1):
        assert received_at[i] < sent_at[i + 1], f"chunk {i} was held back until chunk {i + 1} was sent"
    assert sent_at[-1] - received_at[0] > (CHUNKS - 2) * CHUNK_DELAY, "the first chunk came well before the last"


def test_large_request_bodies_pass(proxy: Proxy, stand_in: StandInOllama) -> None:
    body = b'{"model":"phi","images":["' + b"A" * (3 * 1024 * 1024) + b'"]}'  # over nginx's 1m default
    response, data = proxy.request("POST", "/api/generate", key=SPECIAL_KEY, body=body)
    assert response.status == 200, data[:200]
    assert json.loads(data) == {"authorization_received": False, "body_length": len(body)}


def test_keys_never_reach_the_logs(proxy: Proxy, stand_in: StandInOllama) -> None:
    proxy.request("GET", "/api/tags", key=KEY)
    proxy.request("GET", "/api/tags", key="not-a-key-but-secret-still-0123")
    proxy.request("GET", "/api/tags?key=query-secret-0123456789", key=LONG_KEY)
    time.sleep(0.2)
    logs = proxy.logs()
    assert '"GET /api/tags HTTP/1.1" 200' in logs, logs
    assert '"GET /api/tags HTTP/1.1" 401' in logs, logs
    assert "4 API key(s) loaded" in logs
    for secret in (*KEYS, "not-a-key-but-secret-still-0123", "query-secret-0123456789"):
        assert secret not in logs


def test_the_entrypoint_runs_under_busybox_sh_as_in_the_alpine_image(start_proxy, stand_in: StandInOllama) -> None:
    busybox = require("busybox", "the Alpine image's shell")
    proxy = start_proxy([busybox, "sh"])
    response, data = proxy.request("GET", "/api/tags", key=CRLF_KEY)
    assert response.status == 200
    assert json.loads(data)["authorization_received"] is False
    response, _ = proxy.request("GET", "/api/tags")
    assert response.status == 401


@pytest.mark.parametrize("shell", ["sh", "busybox"])
@pytest.mark.parametrize(
    ("keys", "message"),
    [
        ("", "no API key in"),
        ("# only comments\n\n   \n", "no API key in"),
        (f"{KEY}\nshort-key\n", "line 2 of .*: a key must have at least 16 characters"),
        (f"{KEY} # trailing comment\n", "line 1 of .*: a key may hold only"),
        (f'{KEY}"; default 1; #\n', "line 1 of .*: a key may hold only"),
        ("k" * 257 + "\n", "line 1 of .*: a key may have at most 256 characters"),
        (f"{KEY}\nkeyé{KEY}\n", "line 2 of .*: a key may hold only"),
    ],
    ids=["empty", "only-comments", "short", "inline-comment", "nginx-syntax", "too-long", "non-ascii"],
)
def test_the_entrypoint_refuses_to_start_without_valid_keys(
    sandbox: Sandbox, files: dict[str, str], nginx: str, shell: str, keys: str, message: str
) -> None:
    if shell == "sh":
        command = [require("sh", "POSIX shell")]
    else:
        command = [require("busybox", "the Alpine image's shell"), "sh"]
    process, port, stdout, stderr = run_entrypoint(sandbox, files, command, nginx, free_port(), keys)
    proxy = Proxy(process, port, stdout, stderr)
    try:
        returncode = process.wait(timeout=START_TIMEOUT)
    finally:
        proxy.stop()
    logs = proxy.logs()
    assert returncode != 0
    assert re.search(f"ollama-auth: refusing to start: {message}", logs), logs
    assert not (sandbox.run_dir / "nginx.pid").exists(), "nginx never started"
    assert not sandbox.map_file.exists()
    assert KEY not in logs, "the key is not shown"


def test_the_entrypoint_refuses_to_start_without_the_key_file(
    sandbox: Sandbox, files: dict[str, str], nginx: str
) -> None:
    command = [require("sh", "POSIX shell")]
    process, port, stdout, stderr = run_entrypoint(sandbox, files, command, nginx, free_port(), None)
    proxy = Proxy(process, port, stdout, stderr)
    try:
        returncode = process.wait(timeout=START_TIMEOUT)
    finally:
        proxy.stop()
    assert returncode != 0
    assert f"refusing to start: cannot read the API key file {sandbox.keys_file}" in proxy.logs()
    assert not (sandbox.run_dir / "nginx.pid").exists()


# --- key rotation without a restart ---------------------------------------------------------------

NEW_KEY = "n3w-KeY.after+rotation_0123456789"
"""A key added by a rotation."""
RELOAD = {"OLLAMA_AUTH_RELOAD_INTERVAL_SECONDS": "1"}
RELOAD_TIMEOUT = 15.0


def rotate(sandbox: Sandbox, keys: str) -> None:
    """Change the Secret as the kubelet does when its data changes (the pod keeps running)."""
    write_secret_volume(sandbox.secret_dir, {"api-keys": keys})
    sandbox.own()


def workers(master: int) -> set[int]:
    """The pids of the nginx master's worker processes."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == master and fields[0] != "Z":
            found.add(int(stat.parent.name))
    return found


def wait_for_reload(proxy: Proxy, sandbox: Sandbox, before: set[int]) -> None:
    """Poll (bounded) until nginx has reloaded: the workers running before are gone and new ones serve
    (during a reload both take connections for a moment, so a request proves nothing before that)."""
    master = sandbox.nginx_pid()
    deadline = time.monotonic() + RELOAD_TIMEOUT
    while time.monotonic() < deadline:
        now = workers(master)
        if now and not now & before:
            return
        if proxy.process.poll() is not None:
            pytest.fail(f"the proxy exited with {proxy.process.returncode}:\n{proxy.logs()}")
        time.sleep(0.1)
    pytest.fail(f"nginx was not reloaded within {RELOAD_TIMEOUT}s of the rotation:\n{proxy.logs()}")


def rotated(proxy: Proxy, sandbox: Sandbox, keys: str) -> None:
    """Rotate the Secret to `keys` and wait until the proxy has taken it."""
    before = workers(sandbox.nginx_pid())
    assert before, "nginx has workers"
    rotate(sandbox, keys)
    wait_for_reload(proxy, sandbox, before)


@pytest.mark.parametrize("shell", ["sh", "busybox"])
def test_a_rotated_secret_takes_effect_without_a_restart(start_proxy, sandbox: Sandbox, shell: str) -> None:
    command = [require("sh", "POSIX shell")] if shell == "sh" else [require("busybox", "the Alpine image's shell"), "sh"]
    proxy = start_proxy(command, RELOAD)
    master = sandbox.nginx_pid()
    assert proxy.request("GET", "/api/tags", key=KEY)[0].status == 200
    assert proxy.request("GET", "/api/tags", key=NEW_KEY)[0].status == 401

    rotated(proxy, sandbox, f"# KEY revoked\n{SPECIAL_KEY}\n{NEW_KEY}\n")
    assert proxy.request("GET", "/api/tags", key=KEY)[0].status == 401, "the revoked key is refused"
    assert proxy.request("GET", "/api/tags", key=NEW_KEY)[0].status == 200, "the added key is accepted"
    assert proxy.request("GET", "/api/tags", key=SPECIAL_KEY)[0].status == 200, "a kept key stays valid"
    assert proxy.request("GET", "/api/tags", key=LONG_KEY)[0].status == 401, "every removed key is refused"
    assert sandbox.nginx_pid() == master and proxy.process.poll() is None, "no restart: nginx was reloaded"
    logs = proxy.logs()
    assert "the API key file changed: 2 API key(s) loaded, 0 line(s) ignored; reloading nginx" in logs, logs
    for secret in (*KEYS, NEW_KEY):
        assert secret not in logs


def test_a_rotation_with_bad_lines_fails_closed(start_proxy, sandbox: Sandbox) -> None:
    proxy = start_proxy(env=RELOAD)
    rotated(proxy, sandbox, f"{NEW_KEY}\nshort\n{KEY} # a comment is not allowed here\n")
    assert proxy.request("GET", "/api/tags", key=NEW_KEY)[0].status == 200
    assert proxy.request("GET", "/api/tags", key=KEY)[0].status == 401, "the invalid line is not a key"
    assert proxy.request("GET", "/api/tags", key=SPECIAL_KEY)[0].status == 401, "the removed key is refused"
    logs = proxy.logs()
    assert re.search(r"ignoring line 2 of .*: a key must have at least 16 characters", logs), logs
    assert re.search(r"ignoring line 3 of .*: a key may hold only", logs), logs
    assert "1 API key(s) loaded, 2 line(s) ignored" in logs

    rotated(proxy, sandbox, "# every key revoked\n")
    assert proxy.request("GET", "/api/tags", key=NEW_KEY)[0].status == 401
    assert "holds no valid key: every request is refused" in proxy.logs()
    assert proxy.process.poll() is None, "the proxy keeps running (and refusing) rather than crash-looping"

    rotated(proxy, sandbox, f"{KEY}\n")
    assert proxy.request("GET", "/api/tags", key=KEY)[0].status == 200


def test_an_answer_in_flight_finishes_across_a_reload(start_proxy, sandbox: Sandbox) -> None:
    proxy = start_proxy(env=RELOAD)
    conn = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=HTTP_TIMEOUT)
    try:
        body = json.dumps({"model": "phi", "messages": [{"role": "user", "content": "hi"}]})
        headers = {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json", "X-Test-Chunks": "25"}
        conn.request("POST", "/api/chat", body=body, headers=headers)
        response = conn.getresponse()
        assert response.status == 200
        first = json.loads(response.readline())
        before = workers(sandbox.nginx_pid())
        rotate(sandbox, f"{NEW_KEY}\n")  # revokes the key of the answer being streamed
        os.kill(proxy.process.pid, signal.SIGHUP)  # check at once (a rotation is also found by polling)
        deadline = time.monotonic() + RELOAD_TIMEOUT
        while proxy.request("GET", "/api/tags", key=KEY)[0].status != 401:  # a new worker refuses the key
            assert time.monotonic() < deadline, proxy.logs()
            time.sleep(0.1)
        assert workers(sandbox.nginx_pid()) & before, "the old worker still streams the answer"
        rest = [json.loads(line) for line in iter(response.readline, b"")]
    finally:
        conn.close()
    assert [first, *rest][-1]["done"] is True
    assert len(rest) == 24, "the answer that was in flight came to its end"


def test_sigterm_stops_nginx_gracefully_and_exits_cleanly(start_proxy, sandbox: Sandbox) -> None:
    proxy = start_proxy()
    master = sandbox.nginx_pid()
    conn = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=HTTP_TIMEOUT)
    try:
        body = json.dumps({"model": "phi", "messages": []})
        conn.request("POST", "/api/chat", body=body, headers={"Authorization": f"Bearer {KEY}", "X-Test-Chunks": "6"})
        response = conn.getresponse()
        json.loads(response.readline())
        os.kill(proxy.process.pid, signal.SIGTERM)  # to the entrypoint only, as the kubelet signals PID 1
        lines = [json.loads(line) for line in iter(response.readline, b"")]
    finally:
        conn.close()
    assert lines[-1]["done"] is True, "the answer in flight was finished (nginx got SIGQUIT)"
    assert proxy.process.wait(timeout=START_TIMEOUT) == 0
    assert not Path(f"/proc/{master}").exists(), "nginx stopped with the entrypoint"


def test_a_missing_nginx_skips_only_outside_ci(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("OLLAMA_CONSTRUCTS_TEST_ROOT", str(tmp_path / "absent"))
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="nginx with njs is not installed"):
        tools.nginx()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI must run these tests"):
        tools.nginx()


def test_the_nginx_under_test_is_as_new_as_the_pinned_image(nginx: str) -> None:
    # The proxy image is nginx-unprivileged 1.30.5-alpine with njs 1.0.x: the configuration is tested with an
    # nginx of that minor version or newer, whose njs module loads.
    out = subprocess.run([nginx, "-v"], capture_output=True, text=True, timeout=30)
    version = tuple(int(x) for x in re.search(r"nginx/(\d+)\.(\d+)", out.stderr).groups())
    assert version >= tools.NGINX_MIN, out.stderr
    assert tools.versions()["njs"] >= tools.NJS_MIN


def test_the_stop_signal_lets_a_streamed_answer_finish_and_takes_no_new_connection(
    proxy: Proxy, stand_in: StandInOllama
) -> None:
    """The image's stop signal is SIGQUIT: nginx closes its listener and idle connections and finishes the
    requests in flight (bounded by the shipped `worker_shutdown_timeout`), https://nginx.org/en/docs/control.html."""
    conn = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=HTTP_TIMEOUT)
    idle = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=HTTP_TIMEOUT)
    idle.request("GET", "/healthz")
    idle.getresponse().read()  # a kept-alive client connection, idle from now on
    try:
        body = json.dumps({"model": "phi", "messages": [{"role": "user", "content": "hi"}], "stream": True})
        conn.request("POST", "/api/chat", body=body, headers={"Authorization": f"Bearer {KEY}"})
        response = conn.getresponse()
        lines = [json.loads(response.readline())]
        os.kill(proxy.process.pid, signal.SIGQUIT)  # the kubelet, after the preStop pause
        time.sleep(0.3)
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", proxy.port), timeout=2).close()
        while line := response.readline():
            lines.append(json.loads(line))
    finally:
        conn.close()
    code = proxy.process.wait(timeout=HTTP_TIMEOUT)

    assert [line["message"]["content"] for line in lines] == [f"part {i} " for i in range(CHUNKS)]
    assert lines[-1]["done"] is True
    assert code == 0
    with pytest.raises((OSError, http.client.HTTPException)):
        idle.request("GET", "/healthz")
        idle.getresponse()
