"""The stand-in `ollama` behaves as the real Ollama 0.32.15 does where the scripts and pods depend on it.

Each test names the real behaviour (file and function at tag v0.32.15; tests/standin/README.md has the
table). They guard the stand-in itself: the script and pod tests are only as true as it is.
"""

from __future__ import annotations

import http.client
import json
import signal
import subprocess
import time

import pytest

from tests.test_scripts import PHI, Sandbox, sandbox  # noqa: F401  (sandbox is a fixture)
from tests.test_scripts import http as request
from tests.test_scripts import loads, ps_rows, server_log


def run_background(sandbox: Sandbox, *args: str) -> subprocess.Popen:
    return subprocess.Popen(["ollama", *args], env=sandbox.env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def stream_lines(sandbox: Sandbox, path: str, body: dict) -> tuple[list[bytes], float]:
    host, port = sandbox.host.rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    started = time.monotonic()
    try:
        conn.request("POST", path, body=json.dumps(body))
        response = conn.getresponse()
        assert response.status == 200
        lines = []
        try:
            while line := response.readline():
                lines.append(line)
        except (http.client.IncompleteRead, ConnectionResetError):
            pass
        return lines, time.monotonic() - started
    finally:
        conn.close()


def test_ps_waits_while_any_model_loads(sandbox: Sandbox) -> None:
    """sched.go: the runner's refMu is held until llama-server runs; loadedModels waits on it."""
    slow = {"STANDIN_OLLAMA_LOAD_DELAY_SECONDS": "5"}
    sandbox.seed("phi", **slow)
    with sandbox.server(**slow):
        loading = run_background(sandbox, "run", "phi", "")
        deadline = time.monotonic() + 5
        while "loading model=" not in server_log(sandbox) and time.monotonic() < deadline:
            time.sleep(0.05)
        during = sandbox.ollama("ps", timeout=2)
        loading.wait(timeout=20)
        after = ps_rows(sandbox)

    assert during is None, "ps answered while a model was loading"
    assert [r[0] for r in after] == ["phi:latest"]


def test_an_empty_request_with_keep_alive_0_unloads_the_runner_of_those_weights(sandbox: Sandbox) -> None:
    """routes.go GenerateHandler/ChatHandler: expireRunner, keyed by the weights (schedulerModelKey)."""
    sandbox.seed("phi")
    with sandbox.server():
        assert sandbox.ollama("cp", "phi", "assistant").returncode == 0
        assert sandbox.ollama("run", "--keepalive", "-1m", "phi", "").returncode == 0
        status, body = request(sandbox, "POST", "/api/chat", {"model": "assistant", "messages": [], "keep_alive": 0})
        rows = ps_rows(sandbox)

    assert status == 200
    assert json.loads(body)["done_reason"] == "unload"
    assert rows == [], "unloading an alias unloads the primary: same weights, same runner"


def test_any_keep_alive_in_a_request_replaces_the_runners(sandbox: Sandbox) -> None:
    """sched.go useLoadedRunner: sessionDuration = the request's keep_alive."""
    sandbox.seed("phi")
    with sandbox.server():
        assert sandbox.ollama("run", "--keepalive", "-1m", "phi", "").returncode == 0
        forever = ps_rows(sandbox)[0][-1]
        request(sandbox, "POST", "/api/generate", {"model": "phi", "prompt": "x", "keep_alive": "10m", "stream": False})
        finite = ps_rows(sandbox)[0][-1]
        request(sandbox, "POST", "/api/generate", {"model": "phi", "prompt": "x", "keep_alive": 0, "stream": False})
        time.sleep(0.2)
        after_zero = ps_rows(sandbox)

    assert forever == "Forever"
    assert finite in ("9 minutes from now", "10 minutes from now"), finite
    assert after_zero == [], "keep_alive 0 with a prompt unloads once the answer is done"


def test_a_model_past_max_loaded_models_evicts_one(sandbox: Sandbox) -> None:
    """sched.go processPending: at OLLAMA_MAX_LOADED_MODELS, findRunnerToUnload."""
    limit = {"OLLAMA_MAX_LOADED_MODELS": "1"}
    sandbox.seed("phi", "llama3.2:1b")
    with sandbox.server(**limit):
        assert sandbox.ollama("run", "--keepalive", "-1m", "phi", "").returncode == 0
        assert sandbox.ollama("run", "llama3.2:1b", "").returncode == 0
        rows = ps_rows(sandbox)

    assert [r[0] for r in rows] == ["llama3.2:1b"]


def test_a_crashed_runner_stays_listed_until_the_next_request_reloads_it(sandbox: Sandbox) -> None:
    """sched.go needsReload: a failed Ping means a reload; nothing else removes a dead runner."""
    sandbox.seed("phi")
    with sandbox.server() as server:
        assert sandbox.ollama("run", "phi", "").returncode == 0
        server.send_signal(signal.SIGUSR1)
        time.sleep(0.2)
        listed = [r[0] for r in ps_rows(sandbox)]
        answer = sandbox.ollama("run", "phi", "hello")

    assert listed == ["phi:latest"]
    assert answer.returncode == 0 and "stand-in reply to: hello" in answer.stdout
    assert loads(sandbox, "phi:latest") == 2


def test_ps_names_a_runner_after_the_first_model_until_other_options_reload_it(sandbox: Sandbox) -> None:
    """sched.go: runners keyed by weights; runnerRef.model is the model that loaded them; needsReload
    compares the runner options (num_ctx among them)."""
    sandbox.seed("phi")
    with sandbox.server():
        assert sandbox.ollama("cp", "phi", "assistant").returncode == 0
        assert sandbox.ollama("run", "assistant", "").returncode == 0
        assert sandbox.ollama("run", "phi", "").returncode == 0
        shared = ps_rows(sandbox)
        request(sandbox, "POST", "/api/generate",
                {"model": "phi", "prompt": "x", "stream": False, "options": {"num_ctx": 8192}})
        reloaded = ps_rows(sandbox)

    assert [(r[0], r[4]) for r in shared] == [("assistant:latest", "4096")]
    assert [(r[0], r[4]) for r in reloaded] == [("phi:latest", "8192")]


def test_embedding_models_refuse_generate_in_the_api_and_an_empty_run_in_the_cli(sandbox: Sandbox) -> None:
    """cmd/cmd.go RunHandler stops before any request; routes.go GenerateHandler says 'does not support'."""
    embedding = {"STANDIN_OLLAMA_EMBEDDING_MODELS": "nomic-embed-text"}
    sandbox.seed("nomic-embed-text", **embedding)
    with sandbox.server(**embedding):
        sandbox.reset_calls()
        cli = sandbox.ollama("run", "nomic-embed-text", "")
        status, body = request(sandbox, "POST", "/api/generate", {"model": "nomic-embed-text", "prompt": "x"})
        embedded = sandbox.ollama("run", "nomic-embed-text", "some text")
        loaded_by_empty_embed = request(sandbox, "POST", "/api/embed", {"model": "nomic-embed-text", "keep_alive": -1})

    assert (cli.returncode, cli.stderr) == (
        1, 'Error: embedding models require input text. Usage: ollama run nomic-embed-text "your text here"\n'
    )
    assert (status, json.loads(body)) == (400, {"error": '"nomic-embed-text" does not support generate'})
    assert embedded.returncode == 0 and json.loads(embedded.stdout)
    assert json.loads(loaded_by_empty_embed[1]) == {"model": "nomic-embed-text", "embeddings": []}


def test_rm_always_prunes_the_blobs_no_other_model_uses(sandbox: Sandbox) -> None:
    """routes.go DeleteHandler -> manifest.RemoveLayers, whatever OLLAMA_NOPRUNE says."""
    sandbox.seed("phi")
    with sandbox.server(OLLAMA_NOPRUNE="1"):
        before = sorted(p.name for p in (sandbox.models / "blobs").iterdir())
        removed = sandbox.ollama("rm", "phi")
        after = sorted(p.name for p in (sandbox.models / "blobs").iterdir())

    assert removed.returncode == 0 and "deleted 'phi'" in removed.stdout
    assert len(before) == 4 and after == []


def test_create_with_a_missing_modelfile_reads_from_the_current_directory(sandbox: Sandbox) -> None:
    """cmd/cmd.go getModelfileName returns "" on a stat error -> "FROM ." -> parser ErrModelNotFound."""
    with sandbox.server():
        result = sandbox.ollama("create", "x", "-f", str(sandbox.root / "missing.Modelfile"))

    assert result.returncode == 1
    assert result.stderr.endswith("Error: no Modelfile or safetensors files found\n")


def test_a_quoted_from_is_unquoted(sandbox: Sandbox) -> None:
    """parser/parser.go: unquote on every value, FROM included."""
    sandbox.seed("phi")
    modelfile = sandbox.root / "Modelfile"
    modelfile.write_text('FROM "phi"\nSYSTEM "be brief"\n')
    with sandbox.server():
        result = sandbox.ollama("create", "brief", "-f", str(modelfile))
        shown = sandbox.ollama("show", "brief")

    assert result.returncode == 0, result.stderr
    assert shown.returncode == 0
    created = json.loads(sandbox.manifest("registry.ollama.ai/library/brief/latest").read_bytes())
    base = json.loads(sandbox.manifest(PHI).read_bytes())
    assert created["layers"][0]["digest"] == base["layers"][0]["digest"]
    assert created["layers"][0]["from"] == "phi:latest"


def test_names_take_the_case_of_the_manifest_on_disk(sandbox: Sandbox) -> None:
    """routes.go getExistingName: pull, cp and show rewrite each part to the case already on disk."""
    sandbox.seed("phi")
    with sandbox.server():
        shown = sandbox.ollama("show", "Registry.Ollama.AI/Library/PHI:LATEST")
        pulled = sandbox.ollama("pull", "PHI")
        listing = sandbox.ollama("list").stdout.splitlines()[1:]

    assert shown.returncode == 0
    assert pulled.returncode == 0
    assert [line.split()[0] for line in listing] == ["phi:latest"], "no second manifest in another case"


def test_sigterm_closes_the_open_connections_at_once(sandbox: Sandbox) -> None:
    """routes.go Serve: the signal handler calls srvr.Close(), not Shutdown()."""
    pace = {"STANDIN_OLLAMA_TOKENS_PER_SECOND": "4"}
    sandbox.seed("phi")
    with sandbox.server(**pace) as server:
        host, port = sandbox.host.rsplit(":", 1)
        conn = http.client.HTTPConnection(host, int(port), timeout=30)
        conn.request("POST", "/api/generate", body=json.dumps({"model": "phi", "prompt": "x", "options": {"num_predict": 40}}))
        response = conn.getresponse()
        first = response.readline()
        server.send_signal(signal.SIGTERM)
        rest = []
        try:
            while line := response.readline():
                rest.append(line)
        except (http.client.IncompleteRead, ConnectionResetError):
            pass
        code = server.wait(timeout=10)

    assert json.loads(first)["done"] is False
    assert len(rest) < 39 and not any(b'"done":true' in line for line in rest), "the answer was not cut"
    assert code == 0


def test_the_cli_hangs_on_a_server_that_listens_but_does_not_serve(sandbox: Sandbox) -> None:
    """api/client.go: http.DefaultClient has no timeout; RunServer listens before Serve serves."""
    down = sandbox.ollama("list")
    sandbox.start_server(wait=False, STANDIN_OLLAMA_NEVER_READY="1")
    time.sleep(0.5)
    hanging = sandbox.ollama("list", timeout=1.5)

    assert (down.returncode, down.stderr) == (1, "Error: could not connect to ollama server, run 'ollama serve' to start it\n")
    assert hanging is None


def test_run_draws_its_spinner_and_clears_it_without_a_newline(sandbox: Sandbox) -> None:
    """progress/progress.go: escape codes on stderr; StopAndClear writes no newline before `Error:`."""
    sandbox.seed("phi")
    with sandbox.server(STANDIN_OLLAMA_LOAD_FAIL="phi"):
        result = sandbox.ollama("run", "phi", "")

    assert result.returncode == 1
    assert "\x1b[?25l" in result.stderr
    assert "\nError: " not in result.stderr and not result.stderr.startswith("Error: ")
    assert result.stderr.endswith("\x1b[?25hError: 500 Internal Server Error: llama runner process has terminated: exit status 2\n")


def test_a_streamed_answer_ends_with_the_real_final_object(sandbox: Sandbox) -> None:
    """routes.go GenerateHandler (api.GenerateResponse with api.Metrics); streamResponse writes NDJSON."""
    sandbox.seed("phi")
    with sandbox.server():
        lines, _ = stream_lines(sandbox, "/api/generate", {"model": "phi", "prompt": "hi", "options": {"num_predict": 3}})
        chat, _ = stream_lines(sandbox, "/api/chat", {"model": "phi", "messages": [{"role": "user", "content": "hi"}]})

    objects = [json.loads(line) for line in lines]
    assert [o["done"] for o in objects] == [False, False, False, True]
    assert set(objects[0]) == {"model", "created_at", "response", "done"}
    assert {"done_reason", "context", "total_duration", "load_duration", "prompt_eval_count", "prompt_eval_duration",
            "eval_count", "eval_duration"} <= set(objects[-1])
    assert objects[-1]["done_reason"] == "length" and objects[-1]["eval_count"] == 3
    chat_objects = [json.loads(line) for line in chat]
    assert chat_objects[0]["message"]["role"] == "assistant" and chat_objects[-1]["done_reason"] == "stop"
    assert len(chat_objects) == 12 + 1  # STANDIN_OLLAMA_RESPONSE_TOKENS and the final object


def test_v1_streams_server_sent_events(sandbox: Sandbox) -> None:
    """middleware/openai.go ChatWriter: `data: <chunk>` events, a finish chunk, `data: [DONE]`."""
    sandbox.seed("phi")
    with sandbox.server():
        lines, _ = stream_lines(sandbox, "/v1/chat/completions", {
            "model": "phi", "stream": True, "max_tokens": 2, "messages": [{"role": "user", "content": "hi"}],
            "stream_options": {"include_usage": True},
        })

    events = [line.decode().strip() for line in lines if line.strip()]
    assert all(e.startswith("data: ") for e in events)
    assert events[-1] == "data: [DONE]"
    chunks = [json.loads(e[6:]) for e in events[:-1]]
    assert chunks[0]["object"] == "chat.completion.chunk" and chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    assert chunks[-2]["choices"][0]["finish_reason"] == "length"
    assert chunks[-1]["usage"]["completion_tokens"] == 2


def test_the_pace_of_a_streamed_answer_is_set_by_switches(sandbox: Sandbox) -> None:
    sandbox.seed("phi")
    with sandbox.server(STANDIN_OLLAMA_TOKENS_PER_SECOND="10", STANDIN_OLLAMA_RESPONSE_TOKENS="5"):
        lines, took = stream_lines(sandbox, "/api/generate", {"model": "phi", "prompt": "hi"})

    assert len(lines) == 5 + 1
    assert took >= 5 / 10  # a lower bound only: each token waits 1/10 s


def test_the_cli_checks_the_heartbeat_first_and_the_host_header_is_guarded(sandbox: Sandbox) -> None:
    """cmd/cmd.go checkServerHeartbeat (HEAD /); routes.go allowedHostsMiddleware on a loopback listener."""
    sandbox.seed("phi")
    with sandbox.server():
        sandbox.ollama("show", "phi")
        host, port = sandbox.host.rsplit(":", 1)
        conn = http.client.HTTPConnection(host, int(port), timeout=10)
        conn.request("GET", "/api/version", headers={"Host": "evil.example.com"})
        guarded = conn.getresponse().status
        conn.close()
        missing, _ = request(sandbox, "GET", "/api/nothing")
        wrong, _ = request(sandbox, "GET", "/api/generate")
    log = (sandbox.root / "serve-1.log").read_text()  # this server (serve-0 seeded the model)
    show_requests = [line for line in log.splitlines() if '"/"' in line or '"/api/show"' in line]

    assert 'HEAD "/"' in show_requests[-2] and '"/api/show"' in show_requests[-1]
    assert (guarded, missing, wrong) == (403, 404, 405)


@pytest.mark.parametrize("value", ["-1", "-1m", -1, "forever"])
def test_keep_alive_values_are_read_as_api_duration(sandbox: Sandbox, value) -> None:
    """api/types.go Duration.UnmarshalJSON: negative numbers and durations mean forever."""
    sandbox.seed("phi")
    with sandbox.server():
        status, body = request(sandbox, "POST", "/api/generate", {"model": "phi", "keep_alive": value})
        rows = ps_rows(sandbox)

    if value == "forever":
        assert status == 400 and "invalid duration" in json.loads(body)["error"]
    elif value == "-1":
        assert status == 400, "a string needs a unit: time.ParseDuration refuses \"-1\""
    else:
        assert status == 200 and rows[0][-1] == "Forever"
