"""GpuNodeSelector: GPU limits and scheduling (NVIDIA and AMD), or a pod that sees no GPU."""

from __future__ import annotations

import cdk8s
import cdk8s_plus_28 as kplus
import pytest
from pydantic import ValidationError

from ollama_constructs import GpuNodeSelector, GpuNodeSelectorProps
from ollama_constructs.gpu_node_selector import GpuToleration, NodeLabelRequirement
from tests.conftest import env_of, find


def build(**props) -> tuple[GpuNodeSelector, dict]:
    chart = cdk8s.Chart(cdk8s.Testing.app(), "test")
    deployment = kplus.Deployment(chart, "Deployment")
    main = deployment.add_container(name="main", image="busybox:1.36")
    deployment.add_container(name="sidecar", image="busybox:1.36")
    deployment.add_init_container(name="init", image="busybox:1.36")
    gpu = GpuNodeSelector(chart, "Gpu", GpuNodeSelectorProps(**props), workload=deployment, containers=[main])
    return gpu, find(cdk8s.Testing.synth(chart), "Deployment")["spec"]["template"]["spec"]


def synth_gpu(**props) -> dict:
    return build(**props)[1]


def limits(pod: dict, index: int = 0) -> dict:
    return pod["containers"][index].get("resources", {}).get("limits", {})


def required_terms(pod: dict) -> list[dict]:
    return pod["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]


def only_term(pod: dict) -> list[dict]:
    """The match expressions of the single required term (several terms would be ORed)."""
    terms = required_terms(pod)
    assert len(terms) == 1, terms
    return terms[0]["matchExpressions"]


def refused(match: str, **props) -> None:
    with pytest.raises(ValidationError, match=f"(?s){match}"):
        GpuNodeSelectorProps(**props)


# --- count and resource name ---------------------------------------------------------------------------


def test_gpu_count_is_a_limit_on_the_target_container_only() -> None:
    pod = synth_gpu(count=2)
    main, sidecar = pod["containers"]
    assert main["resources"]["limits"]["nvidia.com/gpu"] == 2
    assert "nvidia.com/gpu" not in sidecar["resources"].get("limits", {})
    assert "nvidia.com/gpu" not in pod["initContainers"][0]["resources"].get("limits", {})


def test_defaults_request_one_nvidia_gpu_with_nothing_else() -> None:
    gpu, pod = build()
    assert limits(pod)["nvidia.com/gpu"] == 1
    assert gpu.resource_name == "nvidia.com/gpu"
    assert gpu.node_affinity_labels == ()
    assert "runtimeClassName" not in pod
    assert "affinity" not in pod
    assert "supplementalGroups" not in pod["securityContext"]


def test_all_containers_are_targets_when_none_are_named() -> None:
    chart = cdk8s.Chart(cdk8s.Testing.app(), "test")
    deployment = kplus.Deployment(chart, "Deployment")
    deployment.add_container(name="a", image="busybox:1.36")
    deployment.add_container(name="b", image="busybox:1.36")
    GpuNodeSelector(chart, "Gpu", GpuNodeSelectorProps(count=1), workload=deployment)
    pod = find(cdk8s.Testing.synth(chart), "Deployment")["spec"]["template"]["spec"]
    assert [c["resources"]["limits"]["nvidia.com/gpu"] for c in pod["containers"]] == [1, 1]


def test_mig_slice_is_requested_by_its_resource_name() -> None:
    gpu, pod = build(count=1, resource_name="nvidia.com/mig-1g.10gb")
    assert limits(pod)["nvidia.com/mig-1g.10gb"] == 1
    assert "nvidia.com/gpu" not in limits(pod)
    assert gpu.resource_name == "nvidia.com/mig-1g.10gb"
    # the usual GPU taint is still tolerated: MIG slices live on the same tainted GPU nodes
    assert pod["tolerations"] == [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]


def test_time_sliced_resource_name() -> None:
    assert limits(synth_gpu(count=1, resource_name="nvidia.com/gpu.shared"))["nvidia.com/gpu.shared"] == 1


@pytest.mark.parametrize("bad", ["gpu", "nvidia.com/", "/gpu", "Nvidia.com/gpu", "nvidia.com/-gpu", "a/b/c"])
def test_resource_name_must_be_domain_slash_name(bad: str) -> None:
    refused("resource_name.*<domain>/<name>", resource_name=bad)


# --- vendor ---------------------------------------------------------------------------------------------


def test_amd_requests_amd_gpus_tolerates_the_amd_taint_and_adds_device_groups() -> None:
    gpu, pod = build(vendor="amd", count=2)
    assert limits(pod)["amd.com/gpu"] == 2
    assert "nvidia.com/gpu" not in limits(pod)
    assert gpu.resource_name == "amd.com/gpu"
    assert pod["tolerations"] == [{"key": "amd.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]
    # video 44 (Debian, Ubuntu); render 109, 110, 992 (Ubuntu 20.04, 22.04, 24.04)
    assert pod["securityContext"]["supplementalGroups"] == [44, 109, 110, 992]
    assert pod["securityContext"]["runAsNonRoot"] is True  # the rest of the pod security context stays


def test_amd_partition_resource_name() -> None:
    pod = synth_gpu(vendor="amd", count=1, resource_name="amd.com/cpx_nps4")
    assert limits(pod)["amd.com/cpx_nps4"] == 1
    assert "amd.com/gpu" not in limits(pod)


def test_amd_product_and_family_select_node_labeller_labels() -> None:
    gpu, pod = build(vendor="amd", count=1, product="Instinct-MI300X", family="AI")
    assert only_term(pod) == [
        {"key": "amd.com/gpu.product-name", "operator": "In", "values": ["Instinct-MI300X"]},
        {"key": "amd.com/gpu.family", "operator": "In", "values": ["AI"]},
    ]
    assert [str(r) for r in gpu.node_affinity_labels] == [
        "amd.com/gpu.product-name In Instinct-MI300X",
        "amd.com/gpu.family In AI",
    ]


def test_amd_family_is_not_checked_against_nvidia_families() -> None:
    assert only_term(synth_gpu(vendor="amd", family="NV"))[0]["values"] == ["NV"]


@pytest.mark.parametrize("family", ["AI", "NV", "GC_11_0_0", "GC_12_0_0", "GC_11_5_0", "GC_10_3_7"])
def test_amd_families_are_the_node_labellers_values(family) -> None:
    assert only_term(synth_gpu(vendor="amd", family=family))[0]["values"] == [family]


@pytest.mark.parametrize(
    ("family", "hint"),
    [("RDNA3", "GC_11_0_0"), ("rdna2", "NV"), ("MI300X", "AI"), ("cdna3", "AI"), ("RDNA4", "GC_12_0_0"), ("ai", "AI")],
)
def test_amd_families_the_labeller_never_writes_are_refused_with_the_value_to_use(family, hint) -> None:
    with pytest.raises(ValidationError, match=f"family '{family}' is not a value the ROCm node labeller writes.*use {hint};"):
        GpuNodeSelectorProps(vendor="amd", family=family)
    with pytest.raises(ValidationError, match="the values are SI, CI, KV, VI, CZ, AI, RV, NV, VGH, GC_11_0_0"):
        GpuNodeSelectorProps(vendor="amd", family="hopper")


def test_unknown_vendor_is_refused() -> None:
    refused("vendor", vendor="intel")


# --- GPU selection by node labels -----------------------------------------------------------------------


def test_product_selects_the_gfd_product_label() -> None:
    gpu, pod = build(product="A100-SXM4-40GB")
    assert only_term(pod) == [{"key": "nvidia.com/gpu.product", "operator": "In", "values": ["A100-SXM4-40GB"]}]
    assert gpu.node_affinity_labels == (NodeLabelRequirement("nvidia.com/gpu.product", "In", ("A100-SXM4-40GB",)),)


def test_product_must_be_a_label_value() -> None:
    refused("product", product="Tesla T4")
    refused("product", product="")


@pytest.mark.parametrize(
    "family", ["maxwell", "pascal", "volta", "turing", "ampere", "ada-lovelace", "hopper", "rubin"]
)
def test_family_selects_the_gfd_family_label(family: str) -> None:
    assert only_term(synth_gpu(family=family)) == [
        {"key": "nvidia.com/gpu.family", "operator": "In", "values": [family]}
    ]


def test_blackwell_is_selected_by_compute_major_not_by_family() -> None:
    gpu, pod = build(family="blackwell")
    assert only_term(pod) == [{"key": "nvidia.com/gpu.compute.major", "operator": "In", "values": ["10", "12"]}]
    assert all(r.key != "nvidia.com/gpu.family" for r in gpu.node_affinity_labels)


def test_min_memory_is_a_gt_on_gpu_memory_in_mib() -> None:
    gpu, pod = build(min_memory_gib=24)
    assert only_term(pod) == [{"key": "nvidia.com/gpu.memory", "operator": "Gt", "values": ["24575"]}]
    assert str(gpu.node_affinity_labels[0]) == "nvidia.com/gpu.memory Gt 24575"


def test_min_memory_must_be_positive() -> None:
    refused("min_memory_gib", min_memory_gib=0)


def test_all_requirements_are_anded_in_one_term() -> None:
    gpu, pod = build(
        product="NVIDIA-GeForce-RTX-5090",
        family="blackwell",
        min_memory_gib=32,
        node_selector={"pool": "gpu", "nvidia.com/gpu.present": "true"},
    )
    assert only_term(pod) == [
        {"key": "nvidia.com/gpu.product", "operator": "In", "values": ["NVIDIA-GeForce-RTX-5090"]},
        {"key": "nvidia.com/gpu.compute.major", "operator": "In", "values": ["10", "12"]},
        {"key": "nvidia.com/gpu.memory", "operator": "Gt", "values": ["32767"]},
        {"key": "nvidia.com/gpu.present", "operator": "In", "values": ["true"]},
        {"key": "pool", "operator": "In", "values": ["gpu"]},
    ]
    assert len(gpu.node_affinity_labels) == 5


# --- runtime class and node selector --------------------------------------------------------------------


def test_runtime_class_and_node_selector() -> None:
    pod = synth_gpu(count=1, runtime_class_name="nvidia", node_selector={"nvidia.com/gpu.present": "true"})
    assert pod["runtimeClassName"] == "nvidia"
    assert {"key": "nvidia.com/gpu.present", "operator": "In", "values": ["true"]} in only_term(pod)


def test_runtime_class_for_amd() -> None:
    assert synth_gpu(vendor="amd", runtime_class_name="amd")["runtimeClassName"] == "amd"


def test_defaults_have_no_runtime_class_and_no_node_selector() -> None:
    pod = synth_gpu(count=1)
    assert "runtimeClassName" not in pod
    assert "affinity" not in pod


# --- tolerations ----------------------------------------------------------------------------------------


def test_gpu_taint_is_tolerated() -> None:
    pod = synth_gpu(count=1)
    assert pod["tolerations"] == [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]


def test_taint_toleration_can_be_turned_off() -> None:
    assert "tolerations" not in synth_gpu(count=1, tolerations=())


def test_explicit_tolerations_replace_the_default() -> None:
    pod = synth_gpu(
        tolerations=(
            GpuToleration(key="nvidia.com/gpu", operator="Equal", value="present", effect="NoSchedule"),
            {"key": "dedicated", "operator": "Exists"},
            {"key": "gpu-node", "effect": "NoExecute"},
            {"key": "spot", "effect": "PreferNoSchedule"},
        )
    )
    assert pod["tolerations"] == [
        {"key": "nvidia.com/gpu", "operator": "Equal", "value": "present", "effect": "NoSchedule"},
        {"key": "dedicated", "operator": "Exists"},
        {"key": "gpu-node", "operator": "Exists", "effect": "NoExecute"},
        {"key": "spot", "operator": "Exists", "effect": "PreferNoSchedule"},
    ]


def test_toleration_equal_needs_a_value_and_exists_takes_none() -> None:
    with pytest.raises(ValidationError, match="'Equal' needs a value"):
        GpuToleration(key="nvidia.com/gpu", operator="Equal")
    with pytest.raises(ValidationError, match="'Exists' takes no value"):
        GpuToleration(key="nvidia.com/gpu", value="present")


def test_toleration_fields_are_checked() -> None:
    with pytest.raises(ValidationError, match="operator"):
        GpuToleration(key="nvidia.com/gpu", operator="In")
    with pytest.raises(ValidationError, match="effect"):
        GpuToleration(key="nvidia.com/gpu", effect="NoRun")
    with pytest.raises(ValidationError, match="taint key"):
        GpuToleration(key="nvidia.com/gpu/x")


def test_the_old_tolerate_gpu_taint_flag_is_gone() -> None:
    refused("tolerate_gpu_taint", tolerate_gpu_taint=False)


# --- supplemental groups --------------------------------------------------------------------------------


def test_supplemental_groups_can_be_chosen_for_amd() -> None:
    pod = synth_gpu(vendor="amd", supplemental_groups=(39, 105))
    assert pod["securityContext"]["supplementalGroups"] == [39, 105]


def test_supplemental_groups_can_be_turned_off_for_amd() -> None:
    assert "supplementalGroups" not in synth_gpu(vendor="amd", supplemental_groups=())["securityContext"]


def test_nvidia_has_no_supplemental_groups_unless_asked() -> None:
    assert "supplementalGroups" not in synth_gpu()["securityContext"]
    assert synth_gpu(supplemental_groups=(44,))["securityContext"]["supplementalGroups"] == [44]


def test_supplemental_groups_are_gids() -> None:
    refused("supplemental_groups", supplemental_groups=(-1,))


# --- CPU-only pods --------------------------------------------------------------------------------------


def test_zero_gpus_hides_every_gpu_from_every_container() -> None:
    gpu, pod = build(count=0)
    for c in pod["containers"] + pod["initContainers"]:
        assert env_of(c)["NVIDIA_VISIBLE_DEVICES"] == "void"
        assert "ROCR_VISIBLE_DEVICES" not in env_of(c)
        assert "nvidia.com/gpu" not in c.get("resources", {}).get("limits", {})
    assert "tolerations" not in pod
    assert "affinity" not in pod
    assert "runtimeClassName" not in pod
    assert gpu.resource_name is None
    assert gpu.node_affinity_labels == ()


def test_zero_amd_gpus_hides_rocm_devices_too() -> None:
    pod = synth_gpu(vendor="amd", count=0)
    for c in pod["containers"] + pod["initContainers"]:
        assert env_of(c)["ROCR_VISIBLE_DEVICES"] == "-1"
        assert env_of(c)["NVIDIA_VISIBLE_DEVICES"] == "void"
        assert "amd.com/gpu" not in c.get("resources", {}).get("limits", {})
    assert "tolerations" not in pod
    assert "supplementalGroups" not in pod["securityContext"]


def test_cpu_only_pod_keeps_its_node_selector_and_explicit_tolerations() -> None:
    gpu, pod = build(count=0, node_selector={"pool": "cpu"}, tolerations=({"key": "batch"},))
    assert only_term(pod) == [{"key": "pool", "operator": "In", "values": ["cpu"]}]
    assert pod["tolerations"] == [{"key": "batch", "operator": "Exists"}]
    assert gpu.node_affinity_labels == (NodeLabelRequirement("pool", "In", ("cpu",)),)


# --- refusals -------------------------------------------------------------------------------------------


def test_mig_with_more_than_one_instance_is_refused() -> None:
    refused("a CUDA process uses one MIG instance", count=2, resource_name="nvidia.com/mig-1g.10gb")


def test_amd_with_a_mig_resource_is_refused() -> None:
    refused("resource_name 'nvidia.com/mig-1g.10gb' does not belong to vendor 'amd'.*MIG is NVIDIA-only",
            vendor="amd", resource_name="nvidia.com/mig-1g.10gb")


def test_amd_with_an_nvidia_resource_is_refused() -> None:
    refused("resource_name 'nvidia.com/gpu' does not belong to vendor 'amd'.*NVIDIA resource",
            vendor="amd", resource_name="nvidia.com/gpu")


def test_nvidia_with_an_amd_resource_is_refused() -> None:
    refused("resource_name 'amd.com/gpu' does not belong to vendor 'nvidia'.*AMD resource",
            resource_name="amd.com/gpu")


def test_a_resource_of_another_domain_is_refused() -> None:
    refused("does not belong to vendor 'nvidia'.*only nvidia.com/ resources", resource_name="gpu.intel.com/i915")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("product", "Tesla-T4"),
        ("family", "ampere"),
        ("min_memory_gib", 16),
        ("resource_name", "nvidia.com/gpu"),
        ("runtime_class_name", "nvidia"),
    ],
)
def test_cpu_only_pod_with_a_gpu_selection_is_refused(field: str, value: object) -> None:
    refused(f"count 0 makes a CPU-only pod, which selects no GPU: remove {field}", count=0, **{field: value})


def test_cpu_only_refusal_names_every_offending_field() -> None:
    refused("remove product, family, runtime_class_name", count=0, product="Tesla-T4", family="turing",
            runtime_class_name="nvidia")


def test_unknown_nvidia_family_is_refused() -> None:
    refused("family 'undefined' is not a GPU Feature Discovery family; use one of maxwell, pascal",
            family="undefined")
    refused("family 'Ampere'", family="Ampere")


def test_amd_min_memory_is_refused() -> None:
    refused("min_memory_gib is not supported with vendor 'amd'.*amd.com/gpu.vram label is not a plain number",
            vendor="amd", min_memory_gib=16)


def test_count_is_bounded() -> None:
    refused("count", count=-1)
    refused("count", count=17)


def test_props_are_frozen() -> None:
    props = GpuNodeSelectorProps()
    with pytest.raises(ValidationError):
        props.count = 2  # type: ignore[misc]


def test_a_bare_pod_gets_limits_groups_and_runtime_class_at_its_own_paths() -> None:
    chart = cdk8s.Chart(cdk8s.Testing.app(), "test")
    pod = kplus.Pod(chart, "Pod")
    pod.add_container(name="main", image="busybox:1.36")
    GpuNodeSelector(chart, "Gpu", GpuNodeSelectorProps(vendor="amd", runtime_class_name="amd"), workload=pod)
    spec = find(cdk8s.Testing.synth(chart), "Pod")["spec"]
    assert spec["containers"][0]["resources"]["limits"]["amd.com/gpu"] == 1
    assert spec["securityContext"]["supplementalGroups"] == [44, 109, 110, 992]
    assert spec["runtimeClassName"] == "amd"
