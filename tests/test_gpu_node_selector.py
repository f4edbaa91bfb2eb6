"""GpuNodeSelector: GPU limits and scheduling, or a pod that sees no GPU."""

from __future__ import annotations

import cdk8s
import cdk8s_plus_28 as kplus

from ollama_constructs import GpuNodeSelector, GpuNodeSelectorProps
from tests.conftest import env_of, find


def synth_gpu(**props) -> dict:
    chart = cdk8s.Chart(cdk8s.Testing.app(), "test")
    deployment = kplus.Deployment(chart, "Deployment")
    main = deployment.add_container(name="main", image="busybox:1.36")
    deployment.add_container(name="sidecar", image="busybox:1.36")
    deployment.add_init_container(name="init", image="busybox:1.36")
    GpuNodeSelector(chart, "Gpu", GpuNodeSelectorProps(**props), workload=deployment, containers=[main])
    return find(cdk8s.Testing.synth(chart), "Deployment")["spec"]["template"]["spec"]


def test_gpu_count_is_a_limit_on_the_target_container_only() -> None:
    pod = synth_gpu(count=2)
    main, sidecar = pod["containers"]
    assert main["resources"]["limits"]["nvidia.com/gpu"] == 2
    assert "nvidia.com/gpu" not in sidecar["resources"].get("limits", {})
    assert "nvidia.com/gpu" not in pod["initContainers"][0]["resources"].get("limits", {})


def test_gpu_taint_is_tolerated() -> None:
    pod = synth_gpu(count=1)
    assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in pod["tolerations"]


def test_runtime_class_and_node_selector() -> None:
    pod = synth_gpu(count=1, runtime_class_name="nvidia", node_selector={"nvidia.com/gpu.present": "true"})
    assert pod["runtimeClassName"] == "nvidia"
    terms = pod["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
    assert {"key": "nvidia.com/gpu.present", "operator": "In", "values": ["true"]} in terms[0]["matchExpressions"]


def test_defaults_have_no_runtime_class_and_no_node_selector() -> None:
    pod = synth_gpu(count=1)
    assert "runtimeClassName" not in pod
    assert "affinity" not in pod


def test_zero_gpus_hides_every_gpu_from_every_container() -> None:
    pod = synth_gpu(count=0)
    for c in pod["containers"] + pod["initContainers"]:
        assert env_of(c)["NVIDIA_VISIBLE_DEVICES"] == "void"
        assert "nvidia.com/gpu" not in c.get("resources", {}).get("limits", {})
    assert "tolerations" not in pod


def test_taint_toleration_can_be_turned_off() -> None:
    assert "tolerations" not in synth_gpu(count=1, tolerate_gpu_taint=False)
