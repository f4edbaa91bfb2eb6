"""Everything synthesized is schema-valid: core kinds strictly (oldest and newest Kubernetes), custom kinds
against their CRDs with unknown fields rejected and their CEL rules evaluated."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO, leaf_data, synth_leaf
from tests.support.manifest_validation import NEWEST, OLDEST

OUTPUT_FILES = sorted((REPO / "dist").rglob("*.k8s.yaml")) + sorted((REPO / "tests" / "golden").glob("*.k8s.yaml"))


def test_both_ends_of_the_supported_kubernetes_range_are_checked(validator) -> None:
    assert OLDEST == "1.28.0"
    assert tuple(int(x) for x in NEWEST.split(".")) >= (1, 37, 0)


@pytest.mark.parametrize("path", OUTPUT_FILES, ids=lambda p: str(p.relative_to(REPO)))
def test_committed_output_is_valid(path: Path, validator) -> None:
    objects = [o for o in yaml.safe_load_all(path.read_text()) if o]
    assert objects, f"{path} is empty"
    assert validator.validate(objects) == []


VARIANTS = {
    "no-ingress": {"ingress": None},
    "cpu-only": {"gpu": {"count": 0}},
    "many-gpus": {"gpu": {"count": 4}, "container": {"replicas": 3}},
    "long-timeout": {"ingress": {"enabled": True, "host": "a.b.example.com", "timeoutSeconds": 86400}},
    "issuer": {
        "ingress": {
            "enabled": True,
            "host": "x.example.com",
            "tls": {"issuerRef": {"kind": "Issuer", "name": "ca"}},
            "gateway": {"className": "cilium"},
        }
    },
    "no-preload": {
        "preload": False,
        "model": None,
        "models": ["registry.corp:5000/ml/coder:v1", "phi"],
        "container": {"replicas": 1, "resources": {"limits": {"cpu": "2", "memory": "4Gi", "ephemeralStorage": "40Gi"}}},
    },
    "claim-recreate": {"persistence": {"enabled": True, "size": "30Gi", "storageClass": "fast"}},
    "claim-per-replica": {"persistence": {"enabled": True}, "container": {"replicas": 3}},
    "shared-claim": {"persistence": {"enabled": True, "accessMode": "ReadWriteMany"}, "container": {"replicas": 2}},
    "existing-claim": {"persistence": {"enabled": True, "existingClaim": "models"}},
    "registry-modelfiles": {
        "registry": {"host": "models.corp:5000", "insecure": True, "caBundle": {"secretName": "ca"}},
        "customModels": [{"name": "bot", "from": "phi", "system": "Be brief.", "parameters": {"stop": ["x"]}}],
    },
    "amd": {"gpu": {"count": 1, "vendor": "amd", "family": "GC_11_0_0"}},
    "mig": {"gpu": {"count": 1, "resourceName": "nvidia.com/mig-1g.10gb", "runtimeClassName": "nvidia"}},
    "blackwell": {"gpu": {"count": 1, "family": "blackwell", "minMemoryGiB": 15}},
    "shared-gateway": {"ingress": {"enabled": True, "host": "a.example.com", "gateway": {"parentRef": {"name": "g", "namespace": "gw"}}}},
    "autoscaled": {"autoscaling": {"enabled": True, "maxReplicas": 4}},
    "scale-to-zero": {"autoscaling": {"enabled": True, "minReplicas": 0, "maxReplicas": 2}, "preload": False,
                      "ingress": {"enabled": True, "host": "z.example.com", "auth": {"mode": "none"}}},
}


@pytest.mark.parametrize("case", sorted(VARIANTS))
def test_leaf_variants_are_valid(case: str, validator) -> None:
    assert validator.validate(synth_leaf(leaf_data(**VARIANTS[case]))) == []


def test_the_validator_would_catch_a_broken_object(validator, seed_manifests) -> None:
    """The check above can fail: an unknown field and a CEL violation in our own output are reported."""
    import copy

    broken = copy.deepcopy(seed_manifests)
    for m in broken:
        if m["kind"] == "Deployment":
            m["spec"]["template"]["spec"]["containers"][0]["imagePullPolicyy"] = "Always"
        if m["kind"] == "HTTPRoute" and "backendRefs" in m["spec"]["rules"][0]:
            m["spec"]["rules"][0]["timeouts"]["backendRequest"] = "9999s"
    errors = validator.validate(broken)
    assert any("imagePullPolicyy" in e for e in errors), errors
    assert any("backendRequest timeout cannot be longer than request timeout" in e for e in errors), errors


def test_kubernetes_validate_cli_strict_accepts_the_core_kinds_of_dist(tmp_path: Path) -> None:
    """The real `kubernetes-validate --strict` command over dist/, oldest and newest version.

    The CLI only warns about custom kinds (it has no schema for them); those are covered above.
    """
    import subprocess
    import sys

    cli = Path(sys.executable).parent / "kubernetes-validate"
    files = [str(p) for p in sorted((REPO / "dist").rglob("*.k8s.yaml"))]
    assert files
    result = subprocess.run(
        [str(cli), "--strict", "--quiet", "-k", OLDEST, "-k", NEWEST, *files],
        capture_output=True, text=True, check=False, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    broken = tmp_path / "broken.yaml"
    broken.write_text(Path(files[0]).read_text().replace("imagePullPolicy:", "imagePullPolicyy:", 1))
    result = subprocess.run(
        [str(cli), "--strict", "--quiet", "-k", OLDEST, str(broken)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 1 and "imagePullPolicyy" in result.stdout + result.stderr
