"""Sizing from known model sizes (`ollama_constructs.catalog.sizing`): every test asserts real numbers."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from ollama_constructs._types import quantity_value
from ollama_constructs.catalog import sizing
from ollama_constructs.catalog.sizing import (
    ResourceSet,
    SizingError,
    auto_resources,
    context_tokens,
    known_model,
    kv_cache_bytes,
    model_memory_bytes,
    plan_sizing,
    preset_resources,
    progress_deadline_seconds,
    recommended_preset,
    startup_timeout_seconds,
    volume_size,
    weights_band,
)
from ollama_constructs.model_reference import ModelReferenceError

KIB = 1024
MIB = 1024**2
GIB = 1024**3
GB = 1000**3

TABLE_NAMES = (
    "phi",
    "phi3",
    "phi3:medium",
    "llama3.2:1b",
    "llama3.2",
    "llama3.1",
    "llama3.1:70b",
    "llama3.3",
    "qwen2.5",
    "mistral",
    "gemma2",
    "gemma2:2b",
    "gemma2:27b",
    "phi4",
    "gemma3",
    "deepseek-r1:7b",
    "nomic-embed-text",
)


def model(name: str) -> sizing.KnownModel:
    found = known_model(name)
    assert found is not None, name
    return found


# --- the table -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "canonical", "download_bytes", "parameters"),
    [
        ("phi", "phi:2.7b", 1_600_000_000, 2_700_000_000),
        ("phi3", "phi3:3.8b", 2_200_000_000, 3_800_000_000),
        ("phi3:medium", "phi3:14b", 7_900_000_000, 14_000_000_000),
        ("llama3.2:1b", "llama3.2:1b", 1_300_000_000, 1_240_000_000),
        ("llama3.2", "llama3.2:3b", 2_019_393_189, 3_200_000_000),
        ("llama3.1", "llama3.1:8b", 4_900_000_000, 8_000_000_000),
        ("llama3.1:70b", "llama3.1:70b", 43_000_000_000, 70_600_000_000),
        ("llama3.3", "llama3.3:70b", 43_000_000_000, 70_600_000_000),
        ("qwen2.5", "qwen2.5:7b", 4_683_087_332, 7_600_000_000),
        ("mistral", "mistral:7b", 4_100_000_000, 7_200_000_000),
        ("gemma2", "gemma2:9b", 5_400_000_000, 9_000_000_000),
        ("gemma2:2b", "gemma2:2b", 1_600_000_000, 2_600_000_000),
        ("gemma2:27b", "gemma2:27b", 16_000_000_000, 27_000_000_000),
        ("phi4", "phi4:14b", 9_100_000_000, 14_000_000_000),
        ("gemma3", "gemma3:4b", 3_300_000_000, 4_000_000_000),
        ("deepseek-r1:7b", "deepseek-r1:7b", 4_700_000_000, 7_600_000_000),
        ("nomic-embed-text", "nomic-embed-text:v1.5", 274_000_000, 137_000_000),
    ],
)
def test_table_has_the_facts_sizes(name: str, canonical: str, download_bytes: int, parameters: int) -> None:
    found = model(name)
    assert (found.name, found.download_bytes, found.parameters) == (canonical, download_bytes, parameters)


@pytest.mark.parametrize(
    ("aliases", "canonical"),
    [
        (("phi", "phi:latest", "phi:2.7b", "library/phi", "registry.ollama.ai/library/phi:latest"), "phi:2.7b"),
        (("llama3.2", "llama3.2:latest", "llama3.2:3b"), "llama3.2:3b"),
        (("llama3.1", "llama3.1:latest", "llama3.1:8b"), "llama3.1:8b"),
        (("phi3", "phi3:mini", "phi3:3.8b"), "phi3:3.8b"),
        (("phi3:medium", "phi3:14b"), "phi3:14b"),
        (("mistral", "mistral:7b"), "mistral:7b"),
        (("gemma2", "gemma2:9b"), "gemma2:9b"),
        (("llama3.3", "llama3.3:70b"), "llama3.3:70b"),
        (("nomic-embed-text", "nomic-embed-text:v1.5"), "nomic-embed-text:v1.5"),
    ],
)
def test_lookup_normalizes_names_and_tags(aliases: tuple[str, ...], canonical: str) -> None:
    assert {model(a).name for a in aliases} == {canonical}


def test_a_library_mirror_is_known_by_name_and_tag() -> None:
    assert model("registry.internal:5000/library/llama3.2:3b") is model("llama3.2:3b")
    assert model("registry.internal/library/phi") is model("phi")


@pytest.mark.parametrize(
    "name",
    ["acme/coder:v2", "registry.internal:5000/ml/llama3.2:3b", "acme/phi", "llama3.1:405b", "deepseek-r1", "gpt4"],
)
def test_unknown_models_and_other_namespaces_are_none(name: str) -> None:
    assert known_model(name) is None


def test_a_pinned_digest_does_not_change_the_figures() -> None:
    assert model("phi:latest@sha256:" + "0" * 64) is model("phi")
    assert plan_sizing(["llama3.1:8b@sha256:" + "a" * 64]).models[0].name == "llama3.1:8b"


@pytest.mark.parametrize(("name", "words"), [("a/b/c/d", "expected name"), ("gpt-oss:cloud", "cloud"), ("", "empty")])
def test_an_invalid_reference_is_a_model_reference_error(name: str, words: str) -> None:
    with pytest.raises(ModelReferenceError, match=words):
        known_model(name)


@pytest.mark.parametrize(
    ("name", "kv_kib", "max_context"),
    [
        ("phi", 320, 2048),
        ("phi3", 384, None),
        ("llama3.2:1b", 32, 131_072),
        ("llama3.2:3b", 112, 131_072),
        ("llama3.1:8b", 128, 131_072),
        ("llama3.1:70b", 320, 131_072),
        ("llama3.3", 320, 131_072),
        ("qwen2.5:7b", 56, 32_768),
        ("mistral", 128, 32_768),
        ("gemma2:9b", 336, 8192),
        ("gemma2:2b", 104, 8192),
        ("gemma2:27b", 368, 8192),
        ("phi4", 200, 16_384),
        ("deepseek-r1:7b", 56, 131_072),
    ],
)
def test_kv_per_token_and_trained_context(name: str, kv_kib: int, max_context: int | None) -> None:
    found = model(name)
    assert found.kv_bytes_per_token == kv_kib * KIB
    assert found.max_context_tokens == max_context
    assert not found.embedding


def test_the_embedding_model_has_no_kv_cache() -> None:
    embed = model("nomic-embed-text")
    assert embed.embedding and embed.kv_bytes_per_token == 0
    assert [n for n in TABLE_NAMES if model(n).embedding] == ["nomic-embed-text"]


@pytest.mark.parametrize("name", TABLE_NAMES)
def test_every_size_is_a_4_to_16_bit_quantization(name: str) -> None:
    found = model(name)
    bits_per_weight = found.download_bytes * 8 / found.parameters
    assert 3.5 <= bits_per_weight <= 16.5


# --- KV cache --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"context_length": 4096}, 512 * MIB),
        ({"context_length": 32_768}, 4 * GIB),
        ({"context_length": 4096, "kv_cache_type": "q8_0"}, 256 * MIB),
        ({"context_length": 32_768, "kv_cache_type": "q8_0"}, 2 * GIB),
        ({"context_length": 4096, "kv_cache_type": "q4_0"}, 128 * MIB),
        ({"context_length": 32_768, "kv_cache_type": "q4_0"}, 1 * GIB),
        ({"context_length": 4096, "num_parallel": 4}, 2 * GIB),
        ({"context_length": 32_768, "num_parallel": 4}, 16 * GIB),
        ({"context_length": 32_768, "num_parallel": 4, "kv_cache_type": "q8_0"}, 8 * GIB),
        ({"context_length": 4096, "num_parallel": 4, "kv_cache_type": "q4_0"}, 512 * MIB),
        ({"context_length": 4096, "kv_cache_type": "q4_0", "flash_attention": True}, 128 * MIB),
        ({"context_length": 4096, "kv_cache_type": "q8_0", "flash_attention": False}, 512 * MIB),
        ({"context_length": 4096, "kv_cache_type": "q4_0", "flash_attention": False}, 512 * MIB),
    ],
)
def test_kv_cache_of_llama3_1_8b(kwargs: dict, expected: int) -> None:
    assert kv_cache_bytes(model("llama3.1:8b"), **kwargs) == expected


@pytest.mark.parametrize(
    ("name", "context", "expected"),
    [  # facts §7.3
        ("llama3.2:1b", 4096, 128 * MIB),
        ("llama3.2:1b", 32_768, 1 * GIB),
        ("llama3.2:3b", 4096, 448 * MIB),
        ("llama3.2:3b", 32_768, 3.5 * GIB),
        ("mistral", 32_768, 4 * GIB),
        ("qwen2.5:7b", 4096, 224 * MIB),
        ("qwen2.5:7b", 32_768, 1.75 * GIB),
        ("gemma2:9b", 4096, 1344 * MIB),
        ("gemma2:9b", 32_768, 2688 * MIB),  # capped at 8k
        ("phi3", 4096, 1.5 * GIB),
        ("phi", 4096, 640 * MIB),  # capped at 2k
        ("llama3.1:70b", 4096, 1.25 * GIB),
        ("llama3.1:70b", 32_768, 10 * GIB),
    ],
)
def test_kv_cache_matches_the_facts_table(name: str, context: int, expected: float) -> None:
    assert kv_cache_bytes(model(name), context_length=context) == expected


def test_context_is_capped_at_the_trained_context() -> None:
    phi = model("phi")
    assert context_tokens(phi, 1024) == 1024
    assert context_tokens(phi, 8192) == 2048
    assert kv_cache_bytes(phi, context_length=131_072) == kv_cache_bytes(phi, context_length=2048) == 640 * MIB
    assert kv_cache_bytes(phi, context_length=8192, num_parallel=2) == 1280 * MIB
    assert context_tokens(model("gemma2"), 32_768) == 8192
    assert context_tokens(model("llama3.1"), 32_768) == 32_768
    assert context_tokens(model("phi3"), 100_000) == 100_000  # trained context not known: never capped


def test_model_memory_is_weights_plus_kv_plus_overhead() -> None:
    assert sizing.RUNTIME_OVERHEAD_BYTES == GIB
    assert model_memory_bytes(model("llama3.1:8b"), context_length=4096) == 4_900_000_000 + 512 * MIB + GIB
    assert (
        model_memory_bytes(model("llama3.1:8b"), context_length=8192, num_parallel=4, kv_cache_type="q8_0")
        == 4_900_000_000 + 2 * GIB + GIB
    )
    assert model_memory_bytes(model("phi"), context_length=4096) == 1_600_000_000 + 640 * MIB + GIB


def test_the_embedding_model_needs_weights_and_overhead_only() -> None:
    embed = model("nomic-embed-text")
    assert kv_cache_bytes(embed, context_length=131_072, num_parallel=8) == 0
    assert model_memory_bytes(embed, context_length=8192, num_parallel=4) == 274_000_000 + GIB


# --- presets ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("small", ResourceSet("1", "4", "4Gi", "6Gi", 6)),
        ("medium", ResourceSet("2", "8", "8Gi", "12Gi", 8)),
        ("large", ResourceSet("8", "16", "48Gi", "64Gi", 48)),
    ],
)
def test_fixed_presets(name: str, expected: ResourceSet) -> None:
    preset = preset_resources(name)
    assert preset == expected
    assert quantity_value(preset.cpu_request) <= quantity_value(preset.cpu_limit)
    assert quantity_value(preset.memory_request) < quantity_value(preset.memory_limit)


@pytest.mark.parametrize("name", ["auto", "tiny", "huge", ""])
def test_only_small_medium_large_are_fixed(name: str) -> None:
    with pytest.raises(ValueError, match="expected one of small, medium, large"):
        preset_resources(name)


@pytest.mark.parametrize(
    ("weights", "band"),
    [
        (274_000_000, "small"),
        (1_600_000_000, "small"),
        (3 * GB, "small"),
        (3 * GB + 1, "medium"),
        (4_900_000_000, "medium"),
        (6 * GB, "medium"),
        (9_100_000_000, "large"),
        (43 * GB, "large"),
    ],
)
def test_weights_bands_follow_the_facts(weights: int, band: str) -> None:
    assert weights_band(weights) == band


def test_auto_resources_round_up_and_add_headroom() -> None:
    assert auto_resources(3 * GIB + 1, 1_600_000_000) == ResourceSet("1", "4", "4Gi", "6Gi", 4)
    assert auto_resources(7 * GIB, 4_900_000_000) == ResourceSet("2", "8", "7Gi", "9Gi", 7)
    assert auto_resources(40 * GIB, 43 * GB) == ResourceSet("8", "16", "40Gi", "50Gi", 40)
    assert auto_resources(40 * GIB + 1, 43 * GB, gpu_count=2).gpu_min_memory_gib == 21


def test_recommended_preset_is_the_smallest_that_covers_the_estimate() -> None:
    assert recommended_preset(4 * GIB) == "small"
    assert recommended_preset(4 * GIB + 1) == "medium"
    assert recommended_preset(7 * GIB, gpu_gib=7) == "medium"
    assert recommended_preset(7 * GIB, gpu_gib=10) == "large"
    assert recommended_preset(48 * GIB) == "large"
    assert recommended_preset(48 * GIB + 1) is None


def test_auto_for_phi() -> None:
    plan = plan_sizing(["phi"])
    assert plan.memory_estimate_bytes == 1_600_000_000 + 640 * MIB + GIB
    assert plan.resources == ResourceSet("1", "4", "4Gi", "6Gi", 4)
    assert plan.recommended_preset == "small"
    assert plan.gpu_min_memory_gib is None  # a CPU leaf


def test_auto_for_llama3_1_8b_on_a_gpu() -> None:
    plan = plan_sizing(["llama3.1:8b"], gpu_count=1)
    assert plan.memory_estimate_bytes == 4_900_000_000 + 512 * MIB + GIB
    assert plan.resources == ResourceSet("2", "8", "7Gi", "9Gi", 7)
    assert plan.gpu_min_memory_gib == 7
    assert plan.recommended_preset == "medium"
    assert quantity_value(plan.resources.memory_request) >= 4_900_000_000 + 512 * MIB


def test_llama3_1_8b_at_32k_needs_more_than_medium() -> None:
    plan = plan_sizing(["llama3.1:8b"], context_length=32_768, gpu_count=1)
    assert plan.memory_estimate_bytes == 4_900_000_000 + 5 * GIB
    assert (plan.resources.memory_request, plan.resources.memory_limit) == ("10Gi", "13Gi")
    assert plan.gpu_min_memory_gib == 10  # facts §7.4: 12-16 GiB for 32k, more than medium's 8
    assert plan.recommended_preset == "large"


def test_kv_settings_reach_the_plan() -> None:
    plan = plan_sizing(["llama3.1:8b"], context_length=8192, num_parallel=4, kv_cache_type="q8_0")
    assert plan.models[0].kv_cache_bytes == 2 * GIB
    assert plan.memory_estimate_bytes == 4_900_000_000 + 3 * GIB
    assert plan.resources.memory_request == "8Gi"
    no_flash = plan_sizing(
        ["llama3.1:8b"], context_length=8192, num_parallel=4, kv_cache_type="q8_0", flash_attention=False
    )
    assert no_flash.models[0].kv_cache_bytes == 4 * GIB


def test_auto_for_llama3_1_70b() -> None:
    plan = plan_sizing(["llama3.1:70b"], gpu_count=1)
    assert plan.memory_estimate_bytes == 43 * GB + 1.25 * GIB + GIB
    assert plan.resources == ResourceSet("8", "16", "43Gi", "54Gi", 43)
    assert plan.recommended_preset == "large"
    assert plan_sizing(["llama3.1:70b"], gpu_count=2).gpu_min_memory_gib == 22


@pytest.mark.parametrize("name", TABLE_NAMES)
@pytest.mark.parametrize("context", [2048, 4096, 32_768])
def test_auto_memory_covers_weights_and_kv(name: str, context: int) -> None:
    found = model(name)
    plan = plan_sizing([name], context_length=context, gpu_count=1)
    needed = found.download_bytes + kv_cache_bytes(found, context_length=context)
    request = quantity_value(plan.resources.memory_request)
    assert request >= needed + sizing.RUNTIME_OVERHEAD_BYTES
    assert request - plan.memory_estimate_bytes < GIB
    assert quantity_value(plan.resources.memory_limit) - request >= 2 * GIB
    assert plan.gpu_min_memory_gib * GIB >= needed


# --- several models --------------------------------------------------------------------------------------

LLAMA_8B_4K = 4_900_000_000 + 512 * MIB + GIB
PHI_4K = 1_600_000_000 + 640 * MIB + GIB
EMBED = 274_000_000 + GIB


def test_all_models_stay_resident_when_they_fit() -> None:
    plan = plan_sizing(["llama3.1:8b", "phi", "nomic-embed-text"])
    assert [m.resident for m in plan.models] == [True, True, True]
    assert plan.max_loaded_models == 3
    assert plan.memory_estimate_bytes == LLAMA_8B_4K + PHI_4K + EMBED  # 10.43 GiB
    assert (plan.resources.memory_request, plan.resources.memory_limit) == ("11Gi", "14Gi")
    assert plan.resources.cpu_request == "8"  # 6.77 GB of weights: the large band
    assert plan.warnings == ()


def test_only_the_largest_stay_resident_beyond_max_loaded_models() -> None:
    plan = plan_sizing(["nomic-embed-text", "phi", "llama3.1:8b"], max_loaded_models=2)
    assert [(m.name, m.resident) for m in plan.models] == [
        ("nomic-embed-text:latest", False),
        ("phi:latest", True),
        ("llama3.1:8b", True),
    ]
    assert plan.memory_estimate_bytes == LLAMA_8B_4K + PHI_4K
    assert plan.warnings == (
        "only 2 of 3 models stay loaded (maxLoadedModels); the others load on demand and evict one",
    )


def test_the_caller_says_how_many_stay_resident() -> None:
    plan = plan_sizing(["phi", "llama3.1:70b", "llama3.1:8b"], resident_models=1)
    assert [m.resident for m in plan.models] == [False, True, False]
    assert plan.memory_estimate_bytes == 43 * GB + 2.25 * GIB
    assert plan.resources.memory_request == "43Gi"
    assert plan.volume_size is None


def test_max_loaded_models_defaults_to_three_per_gpu() -> None:
    assert plan_sizing(["phi"]).max_loaded_models == 3
    assert plan_sizing(["phi"], gpu_count=2).max_loaded_models == 6
    assert plan_sizing(["phi"], max_loaded_models=1).max_loaded_models == 1


def test_an_embedding_model_alone() -> None:
    plan = plan_sizing(["nomic-embed-text"], num_parallel=4, context_length=8192)
    assert plan.models[0].kv_cache_bytes == 0
    assert plan.memory_estimate_bytes == EMBED
    assert plan.resources == ResourceSet("1", "4", "2Gi", "4Gi", 2)
    assert plan.recommended_preset == "small"
    assert "embedding" in plan.describe()[1]


def test_an_embedding_model_beside_a_chat_model() -> None:
    plan = plan_sizing(["llama3.2", "nomic-embed-text"], volume_auto=True)
    assert plan.memory_estimate_bytes == (2_019_393_189 + 448 * MIB + GIB) + EMBED
    assert plan.resources.memory_request == "5Gi"
    assert plan.volume_size == "5Gi"


# --- volume ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("models", "size"),
    [
        (["llama3.1:8b"], "10Gi"),  # 2 × 4.9 GB = 9.13 GiB
        (["llama3.1:70b"], "81Gi"),  # 2 × 43 GB = 80.09 GiB
        (["gemma2:27b"], "30Gi"),  # 2 × 16 GB = 29.8 GiB
        (["llama3.1:8b", "qwen2.5", "nomic-embed-text"], "19Gi"),  # 2 × 9.857 GB = 18.36 GiB
        (["llama3.1:70b", "llama3.3"], "161Gi"),
        (["phi"], "5Gi"),  # 3.2 GB: the floor
        (["llama3.2:1b"], "5Gi"),
        (["nomic-embed-text"], "5Gi"),
        (["phi", "gemma2:2b"], "6Gi"),  # 6.4 GB = 5.96 GiB: just above the floor
    ],
)
def test_volume_auto_size(models: list[str], size: str) -> None:
    assert volume_size(models) == size
    total = sum(model(m).download_bytes for m in models)
    assert quantity_value(size) >= max(2 * total, sizing.VOLUME_FLOOR_GIB * GIB)
    assert quantity_value(size) - 2 * total < GIB or size == "5Gi"


def test_volume_of_an_unknown_model_is_an_error() -> None:
    with pytest.raises(SizingError) as caught:
        volume_size(["phi", "acme/coder:v2"])
    assert str(caught.value) == "model 'acme/coder:v2' has no known size; set persistence.size explicitly (e.g. 20Gi)"


# --- time budgets ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("load_bytes", "seconds"),
    [
        (0, 300),  # floor
        (1_600_000_000, 300),  # 120 + 16 s: the floor
        (18 * GB, 300),  # 120 + 180 s
        (19 * GB, 360),  # 120 + 190 s, whole minutes
        (43 * GB, 600),  # 120 + 430 s
        (150 * GB, 1620),
        (10**12, 1800),  # ceiling
        (None, 1800),  # unknown size: the ceiling
    ],
)
def test_startup_timeout(load_bytes: int | None, seconds: int) -> None:
    assert startup_timeout_seconds(load_bytes) == seconds


@pytest.mark.parametrize(
    ("download_bytes", "seconds"),
    [
        (0, 600),  # 300 image + 300 startup: the floor
        (1_600_000_000, 720),  # 300 + 64 + 300 = 664
        (4_900_000_000, 840),  # 300 + 196 + 300 = 796
        (43 * GB, 2640),  # 300 + 1720 + 600 = 2620
        (250 * GB, 10_800),  # ceiling
        (None, 10_800),
    ],
)
def test_progress_deadline(download_bytes: int | None, seconds: int) -> None:
    assert progress_deadline_seconds(download_bytes, download_bytes) == seconds


def test_time_budgets_grow_with_size_in_whole_minutes() -> None:
    sizes = sorted(model(n).download_bytes for n in TABLE_NAMES)
    deadlines = [progress_deadline_seconds(s, s) for s in sizes]
    startups = [startup_timeout_seconds(s) for s in sizes]
    assert deadlines == sorted(deadlines) and startups == sorted(startups)
    assert deadlines[0] < deadlines[-1] and startups[0] < startups[-1]
    assert all(s % 60 == 0 for s in deadlines + startups)
    assert all(d > s for d, s in zip(deadlines, startups, strict=True))


def test_plan_time_budgets_download_every_model_and_load_the_resident_ones() -> None:
    plan = plan_sizing(["phi", "llama3.1:70b"], resident_models=1)
    assert plan.download_bytes == 44_600_000_000
    assert plan.startup_timeout_seconds == 600  # 43 GB loaded
    assert plan.progress_deadline_seconds == 2700  # 300 + 1784 + 600 = 2684
    assert plan_sizing(["phi"]).progress_deadline_seconds == 720


# --- unknown models --------------------------------------------------------------------------------------


def test_auto_with_an_unknown_model_says_what_to_set() -> None:
    with pytest.raises(SizingError) as caught:
        plan_sizing(["acme/coder:v2"])
    assert str(caught.value) == (
        "model 'acme/coder:v2' has no known size; set container.resources explicitly, "
        "or use a preset (small, medium, large)"
    )
    assert isinstance(caught.value, ValueError)


def test_a_gpu_leaf_is_told_about_gpu_min_memory() -> None:
    with pytest.raises(SizingError) as caught:
        plan_sizing(["phi", "acme/coder:v2"], gpu_count=1)
    assert str(caught.value) == (
        "model 'acme/coder:v2' has no known size; set container.resources (and gpu.minMemoryGiB) explicitly, "
        "or use a preset (small, medium, large)"
    )


def test_every_unknown_model_and_every_fix_is_named() -> None:
    with pytest.raises(SizingError) as caught:
        plan_sizing(["acme/a", "phi", "llama3.1:405b"], volume_auto=True)
    assert str(caught.value) == (
        "models 'acme/a:latest', 'llama3.1:405b' have no known size; set container.resources explicitly, "
        "or use a preset (small, medium, large); and set persistence.size explicitly (e.g. 20Gi)"
    )


def test_volume_auto_with_a_fixed_preset_names_only_the_volume() -> None:
    with pytest.raises(SizingError, match=r"has no known size; set persistence.size explicitly \(e.g. 20Gi\)$"):
        plan_sizing(["acme/coder:v2"], preset="medium", volume_auto=True)


def test_unknown_models_need_no_estimate_with_a_fixed_preset() -> None:
    plan = plan_sizing(["acme/coder:v2", "phi"], preset="small", resident_models=1)
    assert plan.resources == preset_resources("small")
    assert plan.memory_estimate_bytes is None and plan.download_bytes is None and plan.recommended_preset is None
    assert [(m.name, m.known is None, m.memory_bytes, m.resident) for m in plan.models] == [
        ("acme/coder:v2", True, None, True),  # leaf order when a size is unknown
        ("phi:latest", False, PHI_4K, False),
    ]
    assert (plan.startup_timeout_seconds, plan.progress_deadline_seconds) == (1800, 10_800)


def test_explicit_resources_still_get_an_estimate() -> None:
    plan = plan_sizing(["llama3.1:8b"], preset=None, gpu_count=1)
    assert plan.resources is None and plan.preset is None
    assert plan.memory_estimate_bytes == LLAMA_8B_4K
    assert plan.gpu_min_memory_gib == 7
    assert plan.recommended_preset == "medium"
    assert plan_sizing(["acme/coder:v2"], preset=None).memory_estimate_bytes is None


# --- fixed presets in a plan -----------------------------------------------------------------------------


def test_a_fixed_preset_that_fits_has_no_warnings() -> None:
    plan = plan_sizing(["llama3.1:8b"], preset="medium", gpu_count=1)
    assert plan.resources == preset_resources("medium")
    assert plan.gpu_min_memory_gib == 8
    assert plan.warnings == ()


def test_a_fixed_preset_that_is_too_small_warns() -> None:
    plan = plan_sizing(["llama3.1:8b"], preset="small", gpu_count=1)
    assert plan.resources == preset_resources("small")
    assert plan.recommended_preset == "medium"
    assert plan.warnings == (
        "the memory estimate 6.06 GiB exceeds the memory request of preset 'small' (4Gi); use 'auto' or a "
        "larger preset",
        "the models need 7 GiB per GPU, more than preset 'small' asks for (6 GiB)",
    )


# --- describe, determinism, settings, purity -------------------------------------------------------------


def test_describe_lists_every_number() -> None:
    plan = plan_sizing(["llama3.1:8b", "nomic-embed-text"], gpu_count=1, volume_auto=True)
    assert plan.describe() == [
        "models:",
        "  llama3.1:8b: 4.9 GB download, 8.0B parameters, 0.50 GiB KV at 4096 tokens, 6.06 GiB loaded (resident)",
        "  nomic-embed-text:latest: 274 MB download, 137M parameters, embedding, 1.26 GiB loaded (resident)",
        "context: 4096 tokens × 1 parallel, KV cache f16; up to 3 models loaded",
        "memory estimate: 7.32 GiB",
        "preset: auto; recommended: medium",
        "resources: cpu 2 / 8, memory 8Gi / 10Gi",
        "GPU memory: at least 8 GiB per GPU × 1",
        "volume: 10Gi",
        "time budgets: progressDeadlineSeconds 840, startup timeout 300 s (download 5.2 GB at 25 MB/s)",
    ]


def test_describe_with_unknown_sizes_and_warnings() -> None:
    lines = plan_sizing(["acme/coder:v2"], preset=None).describe()
    assert lines[1] == "  acme/coder:v2: size unknown"
    assert "memory estimate: unknown" in lines
    assert "preset: none (container.resources set explicitly)" in lines
    assert lines[-1] == (
        "time budgets: progressDeadlineSeconds 10800, startup timeout 1800 s (a model size is unknown: the ceilings)"
    )
    warned = plan_sizing(["llama3.1:70b"], preset="medium").describe()
    assert warned[-1].startswith("warning: the memory estimate 42.30 GiB exceeds the memory request of preset 'medium'")


def test_plans_are_deterministic() -> None:
    args = (["llama3.1", "phi", "nomic-embed-text", "qwen2.5"],)
    kwargs = {"max_loaded_models": 2, "gpu_count": 1, "volume_auto": True, "kv_cache_type": "q8_0"}
    first, second = plan_sizing(*args, **kwargs), plan_sizing(*args, **kwargs)
    assert first == second and hash(first) == hash(second)
    assert first.describe() == second.describe()
    assert [m.resident for m in first.models] == [True, False, False, True]


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"models": []}, "at least one model"),
        ({"context_length": 0}, "context_length"),
        ({"num_parallel": 0}, "num_parallel"),
        ({"gpu_count": -1}, "gpu_count"),
        ({"kv_cache_type": "q5_1"}, "kv_cache_type 'q5_1'"),
        ({"max_loaded_models": 0}, "max_loaded_models"),
        ({"resident_models": 0}, "resident_models"),
        ({"resident_models": 2}, r"resident_models must be between 1 and the number of models \(1\)"),
        ({"preset": "huge"}, "preset 'huge'"),
    ],
)
def test_out_of_range_settings_are_value_errors(kwargs: dict, words: str) -> None:
    args = {"models": ["phi"], **kwargs}
    with pytest.raises(ValueError, match=words) as caught:
        plan_sizing(args.pop("models"), **args)
    assert not isinstance(caught.value, SizingError)


def test_the_module_is_pure_python() -> None:
    tree = ast.parse(Path(sizing.__file__).read_text())
    imported = {
        node.module if isinstance(node, ast.ImportFrom) else alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    assert imported == {"__future__", "math", "collections.abc", "dataclasses", "typing", "_types", "model_reference"}
