"""Deterministic generator of valid catalog leaves with mixed features, for the synth benchmark.

Leaf `i` depends only on (seed, i), so the first 100 leaves of N=1000 are the leaves of N=100. Every
leaf has a unique (namespace, serviceName) and host. Its features come from one of `profiles` (default
48) feature profiles, profile `i % profiles`, drawn from a random generator seeded with (seed, profile):
leaves of one profile differ only in serviceName, namespace and the strings made from them (host,
owner, Secret and claim names, custom model names, the system prompt). A profile combines:

  * CPU only, NVIDIA (1 or 2 GPUs, family, product, min memory, RuntimeClass), a MIG slice, AMD (ROCm);
  * one model (`model:` string or object) or several (`models:`), known to the sizing tables;
  * custom models: generated from `from` (+ system, parameters) or a literal `modelfile`;
  * persistence: off, ReadWriteOnce (a Deployment, or a StatefulSet with several replicas), ReadWriteMany,
    an existing claim; `size: auto` or a fixed size, with or without a storage class;
  * replicas 0..3;
  * ingress off, or on with the default `apiKey` auth, an explicit Secret, `mode: none` (not in prod), a
    shared Gateway (`parentRef`), another class and an Issuer;
  * an internal registry (with a CA bundle, or insecure on a port);
  * models pinned to digests (always in prod), the preset small/medium/large/auto or explicit resources;
  * Ollama settings (context length, KV cache type with flash attention, numParallel, keepAlive without
    preload, extraEnv);
  * `autoscaling`, when the installed `CatalogLeaf` has such a field (see :func:`_autoscaling`).

Only leaf fields of :mod:`ollama_constructs.catalog.leaf` are used; :func:`check_catalog` loads the
generated directory with the library's own loader, so an invalid leaf fails the benchmark at once.
"""

from __future__ import annotations

import hashlib
import random
from pathlib import Path
from typing import Any

import yaml

# Models with known sizes (ollama_constructs.catalog.sizing), so `preset: auto` and `size: auto` work.
SMALL_MODELS = ("phi", "phi3", "llama3.2:1b", "llama3.2:3b", "gemma2:2b", "nomic-embed-text", "gemma3:4b")
MEDIUM_MODELS = ("llama3.1:8b", "qwen2.5:7b", "mistral:7b", "deepseek-r1:7b", "gemma2:9b")
LARGE_MODELS = ("phi4:14b", "gemma2:27b", "llama3.1:70b")
ALL_MODELS = SMALL_MODELS + MEDIUM_MODELS
TEAMS = tuple(f"team-{t:02d}" for t in range(24))
STEMS = ("chat", "embed", "coder", "assist", "search", "summar", "rag", "agent")
ENVIRONMENTS = ("dev", "test", "staging", "prod")


def _digest(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def _entry(rng: random.Random, name: str, pinned: bool) -> Any:
    """A model entry in one of its written forms (string, pinned string, object)."""
    if not pinned:
        return name if rng.random() < 0.8 else {"name": name}
    digest = _digest(name)
    return f"{name}@{digest}" if rng.random() < 0.6 else {"name": name, "digest": digest}


def _leaf_fields() -> set[str]:
    from ollama_constructs.catalog.leaf import CatalogLeaf

    return {f.alias or n for n, f in CatalogLeaf.model_fields.items()}


def _autoscaling(rng: random.Random, leaf: dict[str, Any], fields: set[str]) -> None:
    """Add `autoscaling` to some leaves when the leaf model has the field (KEDA scaling, issue part 3).

    The sub-fields are read from the model, so only keys the installed library knows are written. The
    rules of the leaf are kept: scale to zero only without preload, no autoscaling of a ReadWriteOnce
    existing claim (it cannot be shared by several replicas).
    """
    if "autoscaling" not in fields or rng.random() >= 0.2:
        return
    persistence = leaf.get("persistence", {})
    if persistence.get("existingClaim") and persistence.get("accessMode") == "ReadWriteOnce":
        return
    from ollama_constructs.catalog.leaf import CatalogLeaf

    from ollama_constructs.catalog.loader import _first_model

    model = _first_model(CatalogLeaf.model_fields[_snake("autoscaling", CatalogLeaf)].annotation)
    if model is None:
        return
    names = {f.alias or n for n, f in model.model_fields.items()}
    spec: dict[str, Any] = {}
    if "enabled" in names:
        spec["enabled"] = True
    if "minReplicas" in names:
        spec["minReplicas"] = rng.choice((0, 1, 1))
        if spec["minReplicas"] == 0:
            leaf["preload"] = False
    if "maxReplicas" in names:
        spec["maxReplicas"] = rng.choice((2, 3, 4))
    if "targetPendingRequests" in names and rng.random() < 0.3:
        spec["targetPendingRequests"] = rng.choice((2, 8))
    if spec:
        leaf["autoscaling"] = spec


def _snake(alias: str, model: Any) -> str:
    for name, field in model.model_fields.items():
        if (field.alias or name) == alias:
            return name
    return alias


DEFAULT_PROFILES = 48


def make_leaf(seed: int, index: int, fields: set[str] | None = None, profiles: int = DEFAULT_PROFILES) -> dict[str, Any]:
    """Leaf `index` of the catalog generated with `seed` (a plain dict, camelCase keys)."""
    fields = _leaf_fields() if fields is None else fields
    rng = random.Random(f"{seed}:{index % profiles}")
    environment = rng.choice(ENVIRONMENTS)
    prod = environment == "prod"
    namespace = TEAMS[index % len(TEAMS)]
    service = f"{rng.choice(STEMS)}-{index:05d}"
    leaf: dict[str, Any] = {
        "workloadType": "OLLAMA_INFERENCE_LOAD",
        "serviceName": service,
        "serviceCatalog": rng.choice(("ml-inference", "dev-tools", "search")),
        "namespace": namespace,
        "environment": environment,
    }
    if rng.random() < 0.6:
        leaf["owner"] = f"{namespace}-owners"

    # GPU: CPU only, NVIDIA, MIG, AMD.
    gpu_kind = rng.choices(("cpu", "nvidia", "nvidia2", "mig", "amd"), weights=(35, 30, 12, 10, 13))[0]
    gpu: dict[str, Any] = {"count": 0}
    if gpu_kind == "nvidia":
        gpu = {"count": 1}
        extra = rng.choice(("", "family", "product", "memory", "runtime"))
        if extra == "family":
            gpu["family"] = rng.choice(("ampere", "hopper", "ada-lovelace", "blackwell"))
        elif extra == "product":
            gpu["product"] = rng.choice(("NVIDIA-A100-SXM4-80GB", "Tesla-T4", "NVIDIA-L4"))
        elif extra == "memory":
            gpu["minMemoryGiB"] = rng.choice((16, 24, 40))
        elif extra == "runtime":
            gpu["runtimeClassName"] = "nvidia"
    elif gpu_kind == "nvidia2":
        gpu = {"count": 2, "family": "hopper"}
    elif gpu_kind == "mig":
        gpu = {"count": 1, "resourceName": "nvidia.com/mig-1g.10gb", "runtimeClassName": "nvidia"}
    elif gpu_kind == "amd":
        gpu = {"count": 1, "vendor": "amd"}
        if rng.random() < 0.5:
            gpu["family"] = "GC_11_0_0"
    if gpu_kind != "cpu" or rng.random() < 0.5:
        leaf["gpu"] = gpu

    # Models: pinned always in prod, sometimes elsewhere.
    pinned = prod or rng.random() < 0.3
    pool = SMALL_MODELS if gpu_kind == "mig" else ALL_MODELS + (LARGE_MODELS if gpu_kind == "nvidia2" else ())
    count = rng.choices((1, 2, 3), weights=(55, 30, 15))[0]
    names = rng.sample(pool, count)
    if count == 1 and rng.random() < 0.6:
        leaf["model"] = _entry(rng, names[0], pinned)
    else:
        leaf["models"] = [_entry(rng, n, pinned) for n in names]

    # Custom Modelfiles: from a listed (or another) base, or literal.
    custom_kind = rng.choices(("none", "from", "literal", "both"), weights=(55, 25, 10, 10))[0]
    customs: list[dict[str, Any]] = []
    if custom_kind in ("from", "both"):
        base = names[0]
        custom: dict[str, Any] = {
            "name": f"{service}-bot",
            "from": _entry(rng, base, pinned),
            "system": f"You are the assistant of {namespace}; answer briefly.",
        }
        if rng.random() < 0.7:
            custom["parameters"] = {"temperature": rng.choice((0.1, 0.2, 0.7)), "stop": ["<|end|>", "<|eot_id|>"]}
        if rng.random() < 0.2:
            custom["template"] = "{{ .System }}\n{{ .Prompt }}"
        customs.append(custom)
    if custom_kind in ("literal", "both"):
        customs.append(
            {
                "name": f"{service}-strict",
                "modelfile": f"FROM {names[0]}\nPARAMETER temperature 0\nSYSTEM Answer with JSON only.\n",
            }
        )
    if customs:
        leaf["customModels"] = customs

    # Replicas, persistence.
    replicas = rng.choices((0, 1, 2, 3), weights=(5, 55, 30, 10))[0]
    persistence_kind = rng.choices(("off", "rwo", "rwx", "existing-rwx", "existing-rwo"), weights=(35, 30, 20, 8, 7))[0]
    if persistence_kind == "existing-rwo":
        replicas = min(replicas, 1)
    persistence: dict[str, Any] | None = None
    if persistence_kind == "rwo":
        persistence = {"enabled": True, "accessMode": "ReadWriteOnce"}
    elif persistence_kind == "rwx":
        persistence = {"enabled": True, "accessMode": "ReadWriteMany", "storageClass": "nfs-client"}
    elif persistence_kind.startswith("existing"):
        mode = "ReadWriteMany" if persistence_kind == "existing-rwx" else "ReadWriteOnce"
        persistence = {"enabled": True, "accessMode": mode, "existingClaim": f"{service}-models-pv"}
    if persistence is not None and "existingClaim" not in persistence:
        persistence["size"] = rng.choice(("auto", "auto", "50Gi", "100Gi"))
        if persistence["accessMode"] == "ReadWriteOnce" and rng.random() < 0.5:
            persistence["storageClass"] = "fast-nvme"
    if persistence is not None:
        leaf["persistence"] = persistence
    if persistence is None and rng.random() < 0.1:
        leaf["persistence"] = {"enabled": False}
    if rng.random() < 0.15 and persistence is not None:
        leaf["removeUnlistedModels"] = True

    # Resources: a preset, explicit resources, or nothing (auto).
    sizing = rng.choices(("auto", "preset", "explicit", "implicit"), weights=(20, 30, 25, 25))[0]
    if sizing == "auto":
        leaf["preset"] = "auto"
    elif sizing == "preset":
        leaf["preset"] = rng.choice(("small", "medium", "large"))
    elif sizing == "explicit":
        cpu = rng.choice(("1", "2", "4"))
        memory = rng.choice(("8Gi", "16Gi", "24Gi"))
        leaf["container"] = {
            "resources": {"requests": {"cpu": cpu, "memory": memory}, "limits": {"cpu": str(2 * int(cpu)), "memory": "32Gi"}}
        }
    if replicas != 1 or rng.random() < 0.2:
        leaf.setdefault("container", {})["replicas"] = replicas

    # Ollama settings.
    ollama: dict[str, Any] = {}
    if rng.random() < 0.3:
        ollama["contextLength"] = rng.choice((2048, 8192, 16384))
    if rng.random() < 0.2:
        ollama["kvCacheType"] = rng.choice(("q8_0", "q4_0"))
        ollama["flashAttention"] = True
    if rng.random() < 0.15:
        ollama["numParallel"] = rng.choice((2, 4))
    if rng.random() < 0.1:
        ollama["loadTimeout"] = "15m"
    if rng.random() < 0.1:
        ollama["extraEnv"] = {"HTTPS_PROXY": "http://proxy.corp:3128"}
    if rng.random() < 0.1:
        leaf["preload"] = False
        if rng.random() < 0.5:
            ollama["keepAlive"] = "10m"
    if ollama:
        leaf["ollama"] = ollama

    # Registry.
    registry_kind = rng.choices(("none", "ca", "insecure"), weights=(70, 20, 10))[0]
    if registry_kind == "ca":
        leaf["registry"] = {"host": "models.internal.example", "caBundle": {"secretName": "internal-registry-ca"}}
    elif registry_kind == "insecure":
        leaf["registry"] = {"host": "registry.lab.example:5000", "insecure": True}

    # Ingress.
    ingress_kind = rng.choices(("off", "apikey", "secret", "none", "shared", "istio"), weights=(40, 20, 10, 10, 10, 10))[0]
    if prod and ingress_kind == "none":
        ingress_kind = "apikey"
    if ingress_kind != "off":
        ingress: dict[str, Any] = {"enabled": True, "host": f"{service}.{namespace}.llm.example.com"}
        if ingress_kind == "secret":
            ingress["auth"] = {"mode": "apiKey", "secretName": f"{namespace}-llm-keys"}
        elif ingress_kind == "none":
            ingress["auth"] = {"mode": "none"}
        elif ingress_kind == "shared":
            ingress["gateway"] = {"parentRef": {"name": "shared", "namespace": "gateway-system", "sectionName": "https"}}
        elif ingress_kind == "istio":
            ingress["gateway"] = {"className": "istio"}
            ingress["tls"] = {"issuerRef": {"kind": "Issuer", "name": "internal-ca"}}
            ingress["timeoutSeconds"] = 1800
        leaf["ingress"] = ingress

    _autoscaling(rng, leaf, fields)
    return leaf


def generate(catalog_dir: Path, count: int, seed: int = 42, profiles: int = DEFAULT_PROFILES) -> list[Path]:
    """Write leaves 0..count-1 as `<namespace>/<serviceName>.yaml` under `catalog_dir`."""
    fields = _leaf_fields()
    written = []
    for index in range(count):
        leaf = make_leaf(seed, index, fields, profiles)
        path = catalog_dir / leaf["namespace"] / f"{leaf['serviceName']}.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(leaf, sort_keys=False), encoding="utf-8")
        written.append(path)
    return written


def check_catalog(catalog_dir: Path) -> int:
    """Load the catalog with the library's loader; raises its CatalogError on any invalid leaf."""
    from ollama_constructs.catalog import load_catalog

    return len(load_catalog(catalog_dir).leaves)


def features(leaf: dict[str, Any]) -> set[str]:
    """Short tags of the features a generated leaf uses (for the coverage line of the report)."""
    tags = set()
    gpu = leaf.get("gpu", {})
    tags.add("cpu" if not gpu.get("count") else f"gpu-{gpu.get('vendor', 'nvidia')}")
    if "mig" in gpu.get("resourceName", ""):
        tags.add("mig")
    models = leaf.get("models") or [leaf.get("model")]
    if len(models) > 1:
        tags.add("several-models")
    if any((isinstance(m, str) and "@sha256" in m) or (isinstance(m, dict) and m.get("digest")) for m in models):
        tags.add("pinned")
    for custom in leaf.get("customModels", ()):
        tags.add("modelfile-literal" if "modelfile" in custom else "modelfile-from")
    persistence = leaf.get("persistence", {})
    if persistence.get("enabled"):
        tags.add("rwx" if persistence["accessMode"] == "ReadWriteMany" else "rwo")
        if persistence.get("existingClaim"):
            tags.add("existing-claim")
    replicas = leaf.get("container", {}).get("replicas", 1)
    if replicas > 1:
        tags.add("replicas>1")
        if persistence.get("accessMode") == "ReadWriteOnce" and persistence.get("enabled") and not persistence.get("existingClaim"):
            tags.add("statefulset")
    ingress = leaf.get("ingress")
    if ingress:
        mode = ingress.get("auth", {}).get("mode", "apiKey")
        tags.add(f"ingress-{mode}")
        if "parentRef" in ingress.get("gateway", {}):
            tags.add("shared-gateway")
    if "registry" in leaf:
        tags.add("registry")
    if "preset" in leaf:
        tags.add(f"preset-{leaf['preset']}")
    if "resources" in leaf.get("container", {}):
        tags.add("explicit-resources")
    if "autoscaling" in leaf:
        tags.add("autoscaling")
    return tags


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description="Write N generated leaves into a catalog directory.")
    parser.add_argument("catalog", type=Path)
    parser.add_argument("count", type=int)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--profiles", type=int, default=DEFAULT_PROFILES)
    parser.add_argument("--check", action="store_true", help="load the result with the library's loader")
    args = parser.parse_args(argv)
    generate(args.catalog, args.count, args.seed, args.profiles)
    if args.check:
        print(f"{check_catalog(args.catalog)} valid leaves in {args.catalog}")
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main())
