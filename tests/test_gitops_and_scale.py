"""Autoscaling on queue depth (KEDA HTTP add-on), ArgoCD sync waves and Applications."""

from __future__ import annotations

import pytest
import yaml

from ollama_constructs import _render, cli
from ollama_constructs.catalog import CatalogError, load_catalog
from tests.conftest import find, leaf_data, server

SCALED = {"autoscaling": {"enabled": True, "minReplicas": 1, "maxReplicas": 4}}
NO_AUTH = {"enabled": True, "host": "chat.example.com", "auth": {"mode": "none"}}


# --- autoscaling ------------------------------------------------------------------------------------


def test_scaled_on_pending_requests_with_an_http_scaled_object(synth) -> None:
    manifests = synth(**SCALED, ollama={"numParallel": 2})
    spec = find(manifests, "HTTPScaledObject", "ollama-phi")["spec"]
    assert spec["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "ollama-phi",
        "service": "ollama-phi",
        "port": 80,
    }
    assert spec["replicas"] == {"min": 1, "max": 4}
    assert spec["scalingMetric"] == {"concurrency": {"targetValue": 2}}, "default: what one replica answers at once"
    # The interceptor strips the port and routes by host alone: no bare name another namespace could share.
    assert spec["hosts"] == [
        "text.hypermedia.au",
        "ollama-phi-interceptor.ml-workloads",
        "ollama-phi-interceptor.ml-workloads.svc",
        "ollama-phi-interceptor.ml-workloads.svc.cluster.local",
    ]
    assert spec["timeouts"]["responseHeader"] == "600s"
    assert not [m for m in manifests if m["kind"] == "HorizontalPodAutoscaler"], "never CPU-based"


def test_keda_owns_the_replica_count(synth) -> None:
    assert "replicas" not in server(synth(**SCALED))["spec"]
    assert server(synth())["spec"]["replicas"] == 1


def test_target_pending_requests_is_taken_from_the_leaf(synth) -> None:
    manifests = synth(autoscaling={"enabled": True, "maxReplicas": 2, "targetPendingRequests": 5})
    assert find(manifests, "HTTPScaledObject")["spec"]["scalingMetric"]["concurrency"]["targetValue"] == 5


def test_with_api_keys_the_proxy_forwards_through_the_interceptor(synth) -> None:
    manifests = synth(**SCALED)
    interceptor = find(manifests, "Service", "ollama-phi-interceptor")
    assert interceptor["spec"]["type"] == "ExternalName"
    assert interceptor["spec"]["externalName"] == "keda-add-ons-http-interceptor-proxy.keda.svc.cluster.local"
    conf = find(manifests, "ConfigMap", "ollama-phi-auth")["data"]["nginx.conf"]
    assert "server ollama-phi-interceptor:8080;" in conf
    # The Host the interceptor routes by (port stripped) is one the HTTPScaledObject claims.
    assert "proxy_set_header Host ollama-phi-interceptor.ml-workloads.svc:8080;" in conf
    assert "ollama-phi-interceptor.ml-workloads.svc" in find(manifests, "HTTPScaledObject")["spec"]["hosts"]
    assert find(manifests, "HTTPRoute", "ollama-phi")["spec"]["rules"][0]["backendRefs"] == [
        {"name": "ollama-phi-auth", "port": 80}
    ]


def test_without_auth_the_route_reaches_the_interceptor_with_a_reference_grant(synth) -> None:
    manifests = synth(**SCALED, ingress=NO_AUTH)
    refs = find(manifests, "HTTPRoute", "ollama-phi")["spec"]["rules"][0]["backendRefs"]
    assert refs == [{"name": "keda-add-ons-http-interceptor-proxy", "namespace": "keda", "port": 8080}]
    grant = find(manifests, "ReferenceGrant")
    assert grant["metadata"]["namespace"] == "keda"
    assert grant["spec"] == {
        "from": [{"group": "gateway.networking.k8s.io", "kind": "HTTPRoute", "namespace": "ml-workloads"}],
        "to": [{"group": "", "kind": "Service", "name": "keda-add-ons-http-interceptor-proxy"}],
    }


def test_the_interceptor_may_reach_the_server(synth) -> None:
    policy = find(synth(**SCALED, ingress=NO_AUTH), "NetworkPolicy", "ollama-phi")
    namespaces = [
        p["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]
        for rule in policy["spec"]["ingress"]
        for p in rule["from"]
        if "namespaceSelector" in p
    ]
    assert "keda" in namespaces


def test_scale_to_zero_without_preload(synth) -> None:
    manifests = synth(autoscaling={"enabled": True, "minReplicas": 0, "maxReplicas": 2}, preload=False)
    assert find(manifests, "HTTPScaledObject")["spec"]["replicas"] == {"min": 0, "max": 2}


def test_scale_to_zero_with_the_default_preload(synth) -> None:
    # Scaling to zero removes the pod (no promise of preload is broken); a replica started from zero is
    # Ready only once the primary is loaded, so the request the interceptor holds is answered warm.
    manifests = synth(autoscaling={"enabled": True, "minReplicas": 0, "maxReplicas": 2})
    spec = find(manifests, "HTTPScaledObject")["spec"]
    assert spec["replicas"] == {"min": 0, "max": 2}
    ollama = server(manifests)["spec"]["template"]["spec"]["containers"][0]
    assert ollama["readinessProbe"]["exec"]["command"][-1] == "warm", "readiness means the primary has been warmed up"
    keeper = [c for c in server(manifests)["spec"]["template"]["spec"]["containers"] if c["name"] == "model-keeper"]
    assert len(keeper) == 1, "and the model-keeper warms the primary up (and keeps it loaded)"
    env = {e["name"]: e["value"] for e in ollama["env"]}
    assert env["OLLAMA_KEEP_ALIVE"] == "-1"
    # The interceptor holds the first request for as long as a cold replica may take (pull and load).
    assert spec["timeouts"]["conditionWait"] == f"{server(manifests)['spec']['progressDeadlineSeconds']}s"


def test_autoscaled_readwriteonce_storage_gets_a_claim_per_replica(synth) -> None:
    manifests = synth(**SCALED, persistence={"enabled": True, "size": "10Gi"})
    assert server(manifests)["kind"] == "StatefulSet"
    assert find(manifests, "HTTPScaledObject")["spec"]["scaleTargetRef"]["kind"] == "StatefulSet"


def test_platform_names_the_interceptor(tmp_path) -> None:
    (tmp_path / "leaf.yaml").write_text(yaml.safe_dump(leaf_data(**SCALED)))
    (tmp_path / "platform-defaults.yaml").write_text(
        "autoscaling:\n  interceptorNamespace: keda-http\n  interceptorService: interceptor\n  interceptorPort: 9090\n"
    )
    files = _render.render_manifests(_render.build_app(load_catalog(tmp_path)))
    (text,) = files.values()
    assert "externalName: interceptor.keda-http.svc.cluster.local" in text


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"autoscaling": {"enabled": True, "minReplicas": 3, "maxReplicas": 2}}, "maxReplicas (2) is below minReplicas (3)"),
        (
            {"autoscaling": {"enabled": True, "maxReplicas": 3}, "persistence": {"enabled": True, "existingClaim": "m"}},
            "cannot be shared by 3 replicas",
        ),
        ({"autoscaling": {"enabled": True, "targetPendingRequests": 0}}, "greater than or equal to 1"),
        ({"autoscaling": {"enabled": True, "cpu": 80}}, "unknown field"),
    ],
)
def test_autoscaling_refusals(tmp_path, changes, words) -> None:
    (tmp_path / "leaf.yaml").write_text(yaml.safe_dump(leaf_data(**changes)))
    with pytest.raises(CatalogError) as info:
        load_catalog(tmp_path)
    messages = [str(e) for e in info.value.errors]
    assert any("autoscaling" in m or "existingClaim" in m for m in messages), messages
    assert any(words in m for m in messages), messages


# --- ArgoCD -----------------------------------------------------------------------------------------


def wave(m: dict) -> int:
    return int(m["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"])


def test_sync_waves_put_configuration_before_workloads_before_routes(synth) -> None:
    manifests = synth(**SCALED, persistence={"enabled": True, "size": "10Gi", "accessMode": "ReadWriteMany"})
    by_kind = {}
    for m in manifests:
        by_kind.setdefault(m["kind"], set()).add(wave(m))
    assert all(len(waves) == 1 for waves in by_kind.values()), by_kind
    first = {k: next(iter(v)) for k, v in by_kind.items()}
    assert first["ConfigMap"] < first["Deployment"] and first["NetworkPolicy"] < first["Deployment"]
    # A WaitForFirstConsumer claim binds only when its pod is scheduled (argo-cd issue 12840).
    assert first["PersistentVolumeClaim"] == first["Deployment"]
    assert first["Deployment"] == first["Service"] < first["HTTPRoute"]
    assert first["Gateway"] > first["Deployment"] and first["HTTPScaledObject"] > first["Deployment"]


def test_no_argocd_tracking_metadata(synth) -> None:
    for m in synth(**SCALED):
        assert "argocd.argoproj.io/tracking-id" not in m["metadata"].get("annotations", {})
        assert not any(k.startswith("argocd.argoproj.io/") and k != "argocd.argoproj.io/sync-wave"
                       for k in {**m["metadata"].get("annotations", {}), **m["metadata"]["labels"]})


def test_one_application_per_leaf_apart_from_the_manifests(tmp_path) -> None:
    catalog = tmp_path / "catalog"
    catalog.mkdir()
    (catalog / "a.yaml").write_text(yaml.safe_dump(leaf_data()))
    coder = {"enabled": True, "host": "coder.hypermedia.au"}
    (catalog / "b.yaml").write_text(yaml.safe_dump(leaf_data(serviceName="coder", namespace="dev-tools", ingress=coder)))
    (catalog / "platform-defaults.yaml").write_text(
        "argocd:\n  repoURL: https://git.example.com/platform/catalog.git\n  targetRevision: release\n  path: out/dist\n"
    )
    out, apps = tmp_path / "dist", tmp_path / "argocd"
    assert cli.main(["synth", "--catalog", str(catalog), "--outdir", str(out), "--argocd-outdir", str(apps), "--backstage-outdir", "-"]) == 0
    files = sorted(p.relative_to(apps).as_posix() for p in apps.rglob("*.yaml"))
    assert files == ["dev-tools/coder.yaml", "ml-workloads/ollama-phi.yaml"]
    app = yaml.safe_load((apps / "ml-workloads/ollama-phi.yaml").read_text())
    assert app["kind"] == "Application" and app["metadata"] == {"name": "ml-workloads.ollama-phi", "namespace": "argocd"}
    assert app["spec"]["source"] == {
        "repoURL": "https://git.example.com/platform/catalog.git",
        "targetRevision": "release",
        "path": "out/dist/ml-workloads/ollama-phi",
    }
    assert (out / "ml-workloads/ollama-phi/manifests.k8s.yaml").is_file(), "the path the Application points at"
    assert app["spec"]["destination"] == {"server": "https://kubernetes.default.svc", "namespace": "ml-workloads"}
    assert app["spec"]["syncPolicy"]["automated"] == {"prune": True, "selfHeal": True}
    assert not any(p.suffix == ".yaml" and "Application" in p.read_text() for p in out.rglob("*.yaml"))


def test_no_applications_without_argocd_settings(tmp_path) -> None:
    catalog = tmp_path / "catalog"
    catalog.mkdir()
    (catalog / "a.yaml").write_text(yaml.safe_dump(leaf_data()))
    apps = tmp_path / "argocd"
    assert cli.main(["synth", "--catalog", str(catalog), "--outdir", str(tmp_path / "dist"), "--argocd-outdir", str(apps), "--backstage-outdir", "-"]) == 0
    assert not apps.exists()


def test_applications_and_autoscaled_leaves_are_schema_valid(tmp_path, validator, synth) -> None:
    catalog = tmp_path / "catalog"
    catalog.mkdir()
    (catalog / "a.yaml").write_text(yaml.safe_dump(leaf_data()))
    (catalog / "platform-defaults.yaml").write_text("argocd:\n  repoURL: https://git.example.com/c.git\n")
    apps = _render.render_applications(load_catalog(catalog))
    objects = [yaml.safe_load(text) for text in apps.values()]
    assert objects and validator.validate(objects) == []
    assert validator.validate(synth(**SCALED)) == []
    assert validator.validate(synth(**SCALED, ingress=NO_AUTH)) == []
    assert validator.validate(synth(autoscaling={"enabled": True, "minReplicas": 0, "maxReplicas": 2}, preload=False)) == []
