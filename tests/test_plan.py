"""`ollama-constructs plan`: every fact once, in words, with where it came from; `--format json` in the shape
of the committed schema/plan.schema.json."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import jsonschema
import pytest
import yaml

from ollama_constructs import cli
from ollama_constructs.catalog.plan import FACTS, plan_json_schema_text
from tests.conftest import REPO, SEED_LEAF_FILE

FIXTURES = REPO / "tests" / "fixtures" / "leaves"
PLAN_SCHEMA = json.loads((REPO / "schema" / "plan.schema.json").read_text())

SEED_PLAN = """\
platform defaults: built-in (no platform-defaults.yaml)

{file}: ml-workloads/ollama-phi (dev)
  primary phi:latest: 1.6 GB download, 2.7B parameters, 0.62 GiB KV cache at 2048 tokens (its trained context), 3.12 GiB when loaded, stays loaded
  serving: 4096-token context (platform default); 1 request at a time per model (platform default); KV cache f16; at most 1 model loaded at once; a model stays loaded forever; the primary model is loaded before the pod is Ready
  memory estimate: 3.12 GiB for the models that stay loaded (weights, KV cache, 1 GiB overhead each)
  resources: explicit (container.resources): CPU request 500m, limit 2; memory request 2Gi, limit 4Gi; the preset that fits the estimate is small
  GPU: 1 × nvidia.com/gpu per replica, on nodes whose GPUs have at least 4 GiB (what the models need)
  replicas: 1, not autoscaled
  model volume: an emptyDir: every new pod pulls the models again (default)
  time budgets: a rollout may take 720 s (progressDeadlineSeconds), loading the primary model 300 s (startup probe and the first warm-up); 1.6 GB downloaded at 25 MB/s, loaded at 100 MB/s
  timeouts: an answer may take 600 s (ingress.timeoutSeconds, platform default); the route and the auth proxy allow 600 s; a stopping pod serves the answers in flight up to 600 s (the answer's bound), terminationGracePeriodSeconds 620
  image: docker.io/ollama/ollama:0.32.15 (platform default)
  registry: registry.ollama.ai (default)
  exposure: https://text.hypermedia.au, a dedicated Gateway of class eg (platform default), 600 s request timeout (platform default)
  auth: an API key (Authorization: Bearer) from the Secret ollama-phi-api-keys, one key per line under api-keys (default)
  certificate: Certificate ollama-phi-tls from ClusterIssuer letsencrypt-prod (the platform's), which must prove the host without this Gateway: DNS-01, a CA or Vault issuer, or an HTTP-01 solver whose parentRefs name the Gateway ollama-phi (an HTTP-01 ClusterIssuer solves only through the Gateway it names)
  gateway traffic: the auth proxy ollama-phi-auth (port 8080) admits namespace envoy-gateway-system (class eg: Envoy Gateway runs the proxies in envoy-gateway-system)
  DNS: pods k8s-app=kube-dns in namespace kube-system, and 169.254.20.10, 169.254.169.254 (port 53) (platform default)
  registry egress: port 443 to public IPv4 and IPv6 addresses (registry.ollama.ai and its CDN) (default)
"""


def _plan(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert cli.main(["plan", *args]) == 0
    return capsys.readouterr().out


@pytest.fixture
def seed_catalog(tmp_path: Path) -> Path:
    shutil.copy(SEED_LEAF_FILE, tmp_path / "ollama-phi.yaml")
    return tmp_path


def test_the_seed_leaf_plan_reads_as_written_here(seed_catalog: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _plan(capsys, "--catalog", str(seed_catalog)) == SEED_PLAN.format(file=seed_catalog / "ollama-phi.yaml")


@pytest.mark.parametrize("leaf", sorted(p.name for p in FIXTURES.glob("*.yaml")))
def test_every_fact_once_in_words(tmp_path: Path, leaf: str, capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copy(FIXTURES / leaf, tmp_path / leaf)
    lines = _plan(capsys, "--catalog", str(tmp_path)).splitlines()[3:]
    labels = [line.split(":")[0].strip() for line in lines]
    assert len(labels) == len(set(labels)), labels  # each fact once (a model line per model)
    text = "\n".join(lines)
    for python in ("{'", "':", "None", "True", "False", "[]", " x "):
        assert python not in text, (python, text)
    assert "up to 1 models" not in text and not re.search(r"\bcpu \S+ / ", text)
    for label in ("resources", "GPU", "model volume", "time budgets", "exposure", "replicas", "image", "registry"):
        assert label in labels, label


def test_an_explicit_preset_and_an_auto_resource_say_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    leaf = yaml.safe_load(SEED_LEAF_FILE.read_text())
    leaf["container"] = {"replicas": 1}
    (tmp_path / "auto.yaml").write_text(yaml.safe_dump({**leaf, "serviceName": "auto"}))
    preset = {**leaf, "serviceName": "preset", "preset": "medium", "ingress": {"enabled": True, "host": "preset.example.com"}}
    (tmp_path / "preset.yaml").write_text(yaml.safe_dump(preset))
    out = _plan(capsys, "--catalog", str(tmp_path))
    assert "resources: auto, as no container.resources are given: CPU request 1, limit 4; memory request 4Gi" in out
    assert "resources: preset medium: CPU request" in out


def test_platform_defaults_are_named_and_marked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copy(SEED_LEAF_FILE, tmp_path / "ollama-phi.yaml")
    (tmp_path / "platform-defaults.yaml").write_text(
        "ingress: {gatewayClassName: istio, issuerRef: {kind: ClusterIssuer, name: corp-ca}}\n"
    )
    out = _plan(capsys, "--catalog", str(tmp_path))
    assert out.startswith(f"platform defaults: {tmp_path / 'platform-defaults.yaml'}\n")
    assert "a dedicated Gateway of class istio (platform default)" in out
    assert "certificate: Certificate ollama-phi-tls from ClusterIssuer corp-ca (the platform's)" in out
    assert "admits namespace ml-workloads (class istio: Istio runs the proxies beside the Gateway)" in out


def test_json_follows_the_committed_schema(capsys: pytest.CaptureFixture[str]) -> None:
    data = json.loads(_plan(capsys, "--catalog", str(FIXTURES), "--format", "json"))
    jsonschema.Draft202012Validator(PLAN_SCHEMA).validate(data)
    assert len(data["leaves"]) == len(list(FIXTURES.glob("*.yaml")))
    by_leaf = {leaf["serviceName"]: {f["key"]: f for f in leaf["facts"]} for leaf in data["leaves"]}
    gpu = by_leaf["llama70b"]["gpu"]["value"]
    assert gpu == {"count": 1, "resource": "nvidia.com/gpu", "product": None, "family": "hopper",
                   "minMemoryGiB": 43, "runtimeClassName": None}
    assert by_leaf["team-chat"]["exposure"]["value"]["parentRef"] == "gateway-system/shared-gateway (listener https-wildcard)"
    assert by_leaf["team-chat"]["auth"]["value"] == {"mode": "apiKey", "secretName": "team-chat-keys"}
    assert by_leaf["burst"]["replicas"]["value"]["autoscaled"] is True
    assert by_leaf["radeon-chat"]["resources"]["value"]["how"] == "auto"
    assert by_leaf["radeon-chat"]["resources"]["value"]["cpu"] == {"request": "2", "limit": "8"}


def test_the_schema_refuses_what_the_plan_never_writes(capsys: pytest.CaptureFixture[str]) -> None:
    data = json.loads(_plan(capsys, "--catalog", str(FIXTURES), "--format", "json"))
    data["leaves"][0]["facts"][0]["value"]["surprise"] = 1
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(PLAN_SCHEMA).validate(data)


def test_plan_schema_file_is_current_and_documents_every_fact() -> None:
    """`make schema` writes it; every registered fact has a description and a value shape."""
    assert (REPO / "schema" / "plan.schema.json").read_text() == plan_json_schema_text()
    documented = {option["properties"]["key"]["const"]: option for option in PLAN_SCHEMA["$defs"]["fact"]["oneOf"]}
    assert list(documented) == [kind.key for kind in FACTS]
    assert all(option["description"] and option["properties"]["value"] for option in documented.values())
