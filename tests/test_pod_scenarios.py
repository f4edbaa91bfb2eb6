"""Pods as the kubelet runs them: synthesized templates, their own commands and scripts, against the stand-in.

`tests/support/kubelet.py` runs a pod template the library synthesized (init containers in order, then the
containers, the probes on their schedules, the preStop on deletion) with the ConfigMap scripts at their
mount paths, each pod in its own network namespace. The stand-in `ollama` (tests/standin) behaves as the
real server does where it matters here: `/api/ps` waits while a model loads, any client can unload a model,
a second model can evict the first, a runner can crash, SIGTERM closes every connection at once.

Timing is scaled down: the constructs get small intervals and budgets, probe periods run at a tenth, and the
stand-in loads in fractions of a second. The healing times measured here are printed (`-s`), not asserted
against a clock; what is asserted is the order of events and that readiness held.
"""

from __future__ import annotations

import os
import re
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import cdk8s
import pytest

from ollama_constructs import OllamaModelPull, OllamaModelPullProps, OllamaServer, OllamaServerProps
from tests.conftest import seed_leaf_data, synth_leaf
from tests.support import kubelet

SCALE = 0.1
"""Probe periods at a tenth: readiness every second, the startup budget of 30 s in 3."""
FAST_KEEPER = {"OLLAMA_CLI_TIMEOUT_SECONDS": "3", "OLLAMA_POLL_INTERVAL_SECONDS": "0.1"}
"""The stand-in CLI is Python, far slower to start than Ollama's Go binary on a busy test machine: the
keeper's bound for one CLI call is 3 s here (10 s in the pod), the probe's 4 s (2 s in the pod; both stay
inside the probe's 5 s timeoutSeconds)."""
SLOW_CLI_PROBE = {"OLLAMA_CLI_TIMEOUT_SECONDS": "4"}
FAST_PULL = {"OLLAMA_POLL_INTERVAL_SECONDS": "0.1", "OLLAMA_PULL_RETRY_DELAY_SECONDS": "1"}

pytestmark = pytest.mark.skipif(kubelet.tools_missing() is not None and not os.environ.get("CI"),
                                reason=kubelet.tools_missing() or "")


def template_of(manifests: list[dict]) -> tuple[dict, dict[str, dict[str, str]]]:
    workload = next(m for m in manifests if m["kind"] in ("Deployment", "StatefulSet")
                    and m["metadata"]["labels"]["app.kubernetes.io/component"] == "server")
    config_maps = {m["metadata"]["name"]: m["data"] for m in manifests if m["kind"] == "ConfigMap"}
    return workload["spec"]["template"], config_maps


def synth(models: tuple[str, ...] = ("phi",), **server: object) -> tuple[dict, dict[str, dict[str, str]]]:
    """A server and its pull, with the short intervals of these scenarios unless given."""
    chart = cdk8s.Chart(cdk8s.Testing.app(), "pod", namespace="team")
    props = {"name": "chat", "models": models, "startup_timeout_seconds": 30, "keeper_interval_seconds": 1,
             "drain_seconds": 20, "drain_delay_seconds": 1, **server}
    s = OllamaServer(chart, "Server", OllamaServerProps(**props))
    OllamaModelPull(chart, "Pull", OllamaModelPullProps(server_start_timeout_seconds=10), server=s)
    return template_of(cdk8s.Testing.synth(chart))


@pytest.fixture
def pods(tmp_path: Path) -> Iterator[list[kubelet.Pod]]:
    made: list[kubelet.Pod] = []
    yield made
    for pod in made:
        pod.close()


def run_pod(pods: list[kubelet.Pod], root: Path, template: dict, config_maps: dict, *, ollama: dict | None = None,
            keeper: dict | None = None, **kwargs) -> kubelet.Pod:
    env = {
        "ollama": {"STANDIN_OLLAMA_LOAD_DELAY_SECONDS": "0.3", **SLOW_CLI_PROBE, **(ollama or {})},
        "model-keeper": {**FAST_KEEPER, **(keeper or {})},
        "model-pull": FAST_PULL,
        "model-manager": {"OLLAMA_POLL_INTERVAL_SECONDS": "0.1"},
    }
    pod = kubelet.Pod(template, config_maps, root, env=env, period_scale=SCALE, **kwargs)
    pods.append(pod)
    return pod.start()


def ps(pod: kubelet.Pod) -> list[dict]:
    status, body = pod.request("GET", "/api/ps")
    assert status == 200, body
    return body["models"]


def loaded(pod: kubelet.Pod, name: str) -> bool:
    return any(m["name"] == name for m in ps(pod))


def never_not_ready_after_first_ready(pod: kubelet.Pod) -> list[tuple[float, bool]]:
    """The readiness changes after the pod first became Ready (empty when it held)."""
    history = pod.ready_history
    first = next(i for i, (_, ready) in enumerate(history) if ready)
    return [h for h in history[first + 1:] if not h[1]]


def heal_seconds(pod: kubelet.Pod, since: float, name: str, timeout: float = 30) -> float:
    assert pod.wait_for(lambda: loaded(pod, name), timeout, step=0.1), pod.logs("model-keeper")
    return pod.now() - since


# --------------------------------------------------------------------------- first start and restart


def test_first_start_of_the_seed_leaf_pulls_warms_up_and_becomes_ready(pods, tmp_path: Path) -> None:
    template, config_maps = template_of(synth_leaf(seed_leaf_data()))
    pod = run_pod(pods, tmp_path, template, config_maps,
                  keeper={"OLLAMA_KEEPER_INTERVAL_SECONDS": "1"})

    assert pod.wait_ready(60), (pod.events, pod.logs("model-pull"), pod.logs("model-keeper"))
    pull_log = pod.logs("model-pull")
    assert "[model-pull] pulled phi:latest" in pull_log
    assert "[model-pull] all 1 model(s) are on the volume" in pull_log
    keeper_log = pod.logs("model-keeper")
    for step in ("warming up phi:latest", "the ollama server is ready", "loading phi:latest (attempt 1)",
                 "first warm-up of phi:latest finished"):
        assert f"[model-keeper] {step}" in keeper_log, keeper_log
    # The pod became Ready only after the warm-up, and the model is loaded for good.
    warmed = next(e.at for e in pod.events_of("Probe.readiness") if " ok " in e.detail + " ")
    assert pod.ready_history[-1][1] is True and warmed <= pod.ready_history[-1][0]
    assert [(m["name"], m["expires_at"][:4]) for m in ps(pod)] == [("phi:latest", "2318")]
    ready_probes = [e for e in pod.events_of("Probe.readiness") if e.detail.startswith("ollama")]
    assert ready_probes and all("ps" not in e.detail for e in ready_probes)
    assert not pod.events_of("Killing"), "no probe killed a container"
    assert "postStart" not in str(template), "no lifecycle hook but the preStop drain"


def test_restart_with_the_models_on_disk_contacts_no_registry(pods, tmp_path: Path) -> None:
    template, config_maps = synth(("phi",), model_volume={"size": "5Gi"})
    claims = {"chat-models": tmp_path / "claim"}
    first = run_pod(pods, tmp_path / "first", template, config_maps, claims=claims)
    assert first.wait_ready(60), first.logs("model-pull")
    first.delete()
    registry_log = first.state / "registry.log"
    assert len(registry_log.read_text().splitlines()) == 1

    second = run_pod(pods, tmp_path / "second", template, config_maps, claims=claims)
    assert second.wait_ready(60), second.logs("model-pull")

    assert "[model-pull] phi:latest is present on the volume, not pulling" in second.logs("model-pull")
    assert not (second.state / "registry.log").exists(), "the second pod's server never contacted the registry"
    assert "first warm-up of phi:latest finished" in second.logs("model-keeper")


def test_pods_run_side_by_side_each_in_its_own_network(pods, tmp_path: Path) -> None:
    template, config_maps = synth()
    first = run_pod(pods, tmp_path / "a", template, config_maps, pod_ip="10.244.0.11")
    second = run_pod(pods, tmp_path / "b", template, config_maps, pod_ip="10.244.0.12")

    assert first.wait_ready(60) and second.wait_ready(60), (first.events, second.events)
    assert loaded(first, "phi:latest") and loaded(second, "phi:latest"), "both servers listen on 11434"
    assert "address already in use" not in first.logs("ollama") + second.logs("ollama")


# --------------------------------------------------------------------------- healing


def test_a_client_unloads_the_primary_and_the_pod_heals_while_it_stays_ready(pods, tmp_path: Path) -> None:
    template, config_maps = synth()
    pod = run_pod(pods, tmp_path, template, config_maps)
    assert pod.wait_ready(60), pod.events
    assert loaded(pod, "phi:latest")

    # Through the routes the Gateway exposes: an empty generate with keep_alive 0 (server/routes.go).
    unloaded_at = pod.now()
    status, body = pod.request("POST", "/api/generate", {"model": "phi", "keep_alive": 0})
    assert (status, body["done_reason"]) == (200, "unload")
    assert not loaded(pod, "phi:latest")
    healed = heal_seconds(pod, unloaded_at, "phi:latest")
    print(f"\nhealed a client's unload in {healed:.1f}s (check every 1s, load 0.3s)")

    # The keeper's check found it unloaded and loaded it (or its request of that moment loaded it).
    assert pod.logs("ollama").count('llama runner started model="phi:latest"') == 2
    assert pod.wait_for(lambda: "phi:latest is loaded" in pod.logs("model-keeper"), 10), pod.logs("model-keeper")
    assert never_not_ready_after_first_ready(pod) == [], "the pod stayed in service while the model reloaded"
    assert pod.is_ready


def test_a_second_model_loading_slowly_does_not_take_the_pod_out_of_service(pods, tmp_path: Path) -> None:
    template, config_maps = synth(models=("phi", "llama3.2:1b"))
    slow = {"STANDIN_OLLAMA_SLOW_LOAD_MODELS": "llama3.2:1b", "STANDIN_OLLAMA_SLOW_LOAD_SECONDS": "8"}
    pod = run_pod(pods, tmp_path, template, config_maps, ollama=slow)
    assert pod.wait_ready(60), pod.events

    second = pod.stream("/api/generate", {"model": "llama3.2:1b", "prompt": "hi", "options": {"num_predict": 2}})
    assert pod.wait_for(lambda: 'loading model="llama3.2:1b"' in pod.logs("ollama"), 10)
    # While it loads, /api/ps waits (the real scheduler holds the runner's lock until it runs).
    blocked = pod.in_netns(lambda: _ps_answers_within(pod, 1.0))
    assert blocked.result() is False, "ps answered during the load: the stand-in no longer blocks as Ollama does"
    lines, complete, _ = second.result(timeout=30)

    assert complete, lines
    readiness_during_load = [e for e in pod.events_of("Probe.readiness") if e.at > pod.now() - 8]
    assert readiness_during_load and all(" ok " in e.detail + " " for e in readiness_during_load), readiness_during_load
    assert never_not_ready_after_first_ready(pod) == []
    keeper_log = pod.logs("model-keeper")
    assert "ollama ps did not answer within 3s: a model is loading" in keeper_log
    assert "not loaded" not in keeper_log, "a blocked ps was never taken for an unloaded model"


def _ps_answers_within(pod: kubelet.Pod, seconds: float) -> bool:
    import http.client

    conn = http.client.HTTPConnection(pod.ip, 11434, timeout=seconds)
    try:
        conn.request("GET", "/api/ps")
        conn.getresponse().read()
        return True
    except OSError:
        return False
    finally:
        conn.close()


def test_eviction_by_another_model_heals(pods, tmp_path: Path) -> None:
    template, config_maps = synth(models=("phi", "llama3.2:1b"), max_loaded_models=1)
    pod = run_pod(pods, tmp_path, template, config_maps)
    assert pod.wait_ready(60), pod.events

    evicted_at = pod.now()
    status, body = pod.request("POST", "/api/generate", {"model": "llama3.2:1b", "prompt": "hi", "stream": False,
                                                          "options": {"num_predict": 2}})
    assert status == 200, body
    healed = heal_seconds(pod, evicted_at, "phi:latest")
    print(f"\nhealed an eviction in {healed:.1f}s")

    assert [m["name"] for m in ps(pod)] == ["phi:latest"], "OLLAMA_MAX_LOADED_MODELS=1: the primary took its place back"
    assert pod.logs("ollama").count('llama runner started model="phi:latest"') == 2
    assert never_not_ready_after_first_ready(pod) == []


def test_a_crashed_runner_that_ps_still_lists_is_started_again(pods, tmp_path: Path) -> None:
    template, config_maps = synth()
    pod = run_pod(pods, tmp_path, template, config_maps)
    assert pod.wait_ready(60), pod.events
    server_log = pod.logs("ollama")
    started = server_log.count('llama runner started model="phi:latest"')

    crashed_at = pod.now()
    pod.signal("ollama", signal.SIGUSR1)  # the stand-in's llama-server dies; ps still lists it
    assert loaded(pod, "phi:latest")
    assert pod.wait_for(lambda: pod.logs("ollama").count('llama runner started model="phi:latest"') > started, 20)
    print(f"\nstarted a crashed runner again in {pod.now() - crashed_at:.1f}s")

    assert never_not_ready_after_first_ready(pod) == []
    status, body = pod.request("POST", "/api/generate", {"model": "phi", "prompt": "hi", "stream": False})
    assert status == 200 and body["done"] is True


def test_an_embedding_primary_warms_up_through_the_embedding_path(pods, tmp_path: Path) -> None:
    template, config_maps = synth(models=("nomic-embed-text",))
    pod = run_pod(pods, tmp_path, template, config_maps, ollama={"STANDIN_OLLAMA_EMBEDDING_MODELS": "nomic-embed-text"})

    assert pod.wait_ready(60), (pod.events, pod.logs("model-keeper"))
    keeper_log = pod.logs("model-keeper")
    assert "nomic-embed-text:latest is an embedding model: loading it by computing one embedding" in keeper_log
    assert "require input text" not in keeper_log
    assert loaded(pod, "nomic-embed-text:latest")
    status, body = pod.request("POST", "/api/embed", {"model": "nomic-embed-text", "input": "hello"})
    assert status == 200 and len(body["embeddings"]) == 1


# --------------------------------------------------------------------------- shutdown


def test_an_answer_streaming_when_the_pod_is_deleted_completes_within_the_grace_period(pods, tmp_path: Path) -> None:
    template, config_maps = synth(drain_seconds=20, drain_delay_seconds=1)
    assert template["spec"]["terminationGracePeriodSeconds"] == 1 + 20 + 15
    pod = run_pod(pods, tmp_path, template, config_maps, ollama={"STANDIN_OLLAMA_TOKENS_PER_SECOND": "5"})
    assert pod.wait_ready(60), pod.events

    answer = pod.stream("/api/generate", {"model": "phi", "prompt": "tell me", "options": {"num_predict": 15}})
    time.sleep(1.0)  # about 5 of its 15 tokens are out
    took = pod.delete()
    lines, complete, times = answer.result(timeout=5)

    assert complete, f"the answer was cut after {len(lines)} chunks"
    assert len(lines) == 16 and lines[-1]["done_reason"] == "length" and lines[-1]["eval_count"] == 15
    sigterm = next(e.at for e in pod.events_of("Signal") if e.detail == "ollama SIGTERM")
    assert times[-1] <= sigterm, "Ollama got SIGTERM only after the answer had ended"
    assert took < template["spec"]["terminationGracePeriodSeconds"]
    drain_log = [line for line in pod.logs("ollama").splitlines() if line.startswith("[drain]")]
    assert drain_log[0].startswith("[drain] stopping: waiting 1s for the endpoints to drop this pod")
    assert re.fullmatch(r"\[drain\] no client connection left on port 11434 after \d+s; the server may stop", drain_log[-1])
    assert not pod.events_of("FailedPreStopHook")


def test_without_the_drain_the_same_answer_is_cut(pods, tmp_path: Path) -> None:
    """The control: Ollama closes every connection on SIGTERM, so the drain is what keeps the answer."""
    template, config_maps = synth(drain_seconds=0, drain_delay_seconds=0)
    pod = run_pod(pods, tmp_path, template, config_maps, ollama={"STANDIN_OLLAMA_TOKENS_PER_SECOND": "5"})
    assert pod.wait_ready(60), pod.events

    answer = pod.stream("/api/generate", {"model": "phi", "prompt": "tell me", "options": {"num_predict": 15}})
    time.sleep(1.0)
    pod.delete()
    lines, complete, _ = answer.result(timeout=5)

    assert not complete and 0 < len(lines) < 16


# --------------------------------------------------------------------------- failure


def test_a_server_that_never_becomes_ready_fails_the_pod_with_a_clear_message(pods, tmp_path: Path) -> None:
    template, config_maps = synth()
    pod = run_pod(pods, tmp_path, template, config_maps, ollama={"STANDIN_OLLAMA_NEVER_READY": "1"},
                  keeper={"OLLAMA_WARMUP_TIMEOUT_SECONDS": "4", "OLLAMA_CLI_TIMEOUT_SECONDS": "1"})

    assert pod.wait_for(lambda: pod.container("model-keeper").exit_codes != [], 30), pod.logs("model-keeper")
    assert pod.wait_for(lambda: pod.events_of("Killing"), 30), pod.events

    assert not any(ready for _, ready in pod.ready_history)
    message = pod.termination_message("model-keeper")
    assert message.splitlines()[-1] == (
        "[model-keeper] ERROR: the ollama server at 127.0.0.1:11434 did not become ready within 4s "
        "(last error: 'ollama list' did not answer within 1s)"
    ), message
    killing = pod.events_of("Killing")[0].detail
    assert killing == "ollama: startup probe failed 3 times", killing
