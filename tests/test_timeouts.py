"""Every time bound on a request's way comes from one rule (ollama_constructs/catalog/timeouts.py), and the
synthesized objects agree with it: the route, the auth proxy's nginx, the KEDA interceptor, the drains and
the grace periods."""

from __future__ import annotations

import re

import pytest

from ollama_constructs.catalog import parse_leaf
from ollama_constructs.catalog.plan import leaf_sizing
from ollama_constructs.catalog.platform import GATEWAY_IMPLEMENTATIONS, PlatformDefaults, apply_platform_defaults
from ollama_constructs.catalog.timeouts import leaf_timeouts
from tests.conftest import find, leaf_data, server, synth_leaf

INGRESS = {"enabled": True, "host": "text.hypermedia.au"}
SCALED = {"enabled": True, "minReplicas": 0, "maxReplicas": 2}


def _seconds(text: str) -> int:
    match = re.fullmatch(r"(\d+)s", text)
    assert match, text
    return int(match[1])


def _nginx_conf(manifests: list[dict]) -> str:
    return find(manifests, "ConfigMap", "ollama-phi-auth")["data"]["nginx.conf"]


def _directive(conf: str, name: str) -> int:
    values = set(re.findall(rf"^\s*{name} (\d+)s;", conf, re.M))
    assert len(values) == 1, (name, values)
    return int(values.pop())


def _grace(manifests: list[dict], name: str) -> int:
    workload = next(m for m in manifests if m["kind"] in ("Deployment", "StatefulSet") and m["metadata"]["name"] == name)
    return workload["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]


def _rule(data: dict):
    leaf = apply_platform_defaults(parse_leaf("t.yaml", data), PlatformDefaults())
    return leaf_timeouts(leaf, leaf_sizing(leaf))


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"ingress": {**INGRESS, "timeoutSeconds": 900}},
        {"ingress": {**INGRESS, "timeoutSeconds": 300}, "container": {"replicas": 1, "drainSeconds": 120}},
        {"autoscaling": SCALED},
        {"autoscaling": SCALED, "ingress": {**INGRESS, "timeoutSeconds": 1200}},
    ],
    ids=["seed", "long-answers", "short-drain", "autoscaled", "autoscaled-long"],
)
def test_route_proxy_interceptor_drain_and_grace_follow_one_rule(changes: dict) -> None:
    data = leaf_data(**changes)
    if "container" in changes:
        data["container"] = {**leaf_data()["container"], **changes["container"]}
    rule = _rule(data)
    manifests = synth_leaf(data)
    scaled = "autoscaling" in changes
    assert rule.answer_seconds == data["ingress"].get("timeoutSeconds", 600)
    assert rule.request_seconds == rule.answer_seconds + rule.cold_start_seconds
    assert (rule.cold_start_seconds > 0) == scaled
    assert rule.drain_seconds == data["container"].get("drainSeconds", rule.answer_seconds)

    route = find(manifests, "HTTPRoute", "ollama-phi")
    for rule_of_route in route["spec"]["rules"]:
        timeouts = rule_of_route["timeouts"]
        assert _seconds(timeouts["request"]) == _seconds(timeouts["backendRequest"]) == rule.request_seconds
    conf = _nginx_conf(manifests)
    assert _directive(conf, "proxy_read_timeout") == _directive(conf, "proxy_send_timeout") == rule.request_seconds
    assert _directive(conf, "worker_shutdown_timeout") == rule.drain_seconds
    assert _grace(manifests, "ollama-phi") == _grace(manifests, "ollama-phi-auth") == rule.grace_seconds
    assert rule.grace_seconds > rule.drain_seconds
    if scaled:
        spec = find(manifests, "HTTPScaledObject")["spec"]
        assert _seconds(spec["timeouts"]["conditionWait"]) == rule.cold_start_seconds
        assert _seconds(spec["timeouts"]["responseHeader"]) == rule.answer_seconds
        assert rule.cold_start_seconds == server(manifests)["spec"]["progressDeadlineSeconds"]
    else:
        assert not [m for m in manifests if m["kind"] == "HTTPScaledObject"]


def test_the_drain_of_the_server_is_the_rules() -> None:
    data = leaf_data(container={"replicas": 1, "drainSeconds": 45})
    manifests = synth_leaf(data)
    ollama = next(c for c in server(manifests)["spec"]["template"]["spec"]["containers"] if c["name"] == "ollama")
    env = {e["name"]: e["value"] for e in ollama["env"]}
    assert ollama["lifecycle"]["preStop"]["exec"]["command"][1].endswith("/drain.sh")
    assert env["OLLAMA_DRAIN_TIMEOUT_SECONDS"] == "45"
    assert _grace(manifests, "ollama-phi") == _rule(data).grace_seconds


def test_the_gateway_implementations_that_ignore_route_timeouts_are_named() -> None:
    ignoring = {name for name, known in GATEWAY_IMPLEMENTATIONS.items() if known.route_timeouts}
    assert ignoring == {"nginx", "traefik"}
    assert all(GATEWAY_IMPLEMENTATIONS[name].route_timeouts.startswith("ignored") for name in ignoring)  # type: ignore[union-attr]


def test_plan_says_when_the_gateway_ignores_the_route_timeouts(tmp_path, capsys) -> None:
    import shutil

    from ollama_constructs import cli
    from tests.conftest import SEED_LEAF_FILE

    shutil.copy(SEED_LEAF_FILE, tmp_path / "ollama-phi.yaml")
    (tmp_path / "platform-defaults.yaml").write_text("ingress: {gatewayClassName: nginx}\n")
    assert cli.main(["plan", "--catalog", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "the route and the auth proxy allow 600 s; but class nginx (NGINX Gateway Fabric) ignored:" in out
    assert cli.main(["plan", "--catalog", str(tmp_path), "--format", "json"]) == 0
    import json

    facts = {f["key"]: f for f in json.loads(capsys.readouterr().out)["leaves"][0]["facts"]}
    assert facts["timeouts"]["value"]["routeTimeoutsIgnored"].startswith("ignored: NGINX Gateway Fabric")
