"""checkov over what the repo ships, and the helper that writes justified suppressions.

The gate: checkov 3.3.30 (offline) reports no failed check over `dist/` or over `tests/golden/`, and every
suppression (`checkov.io/skipN: CKV_...=reason`) carries a reason of at least 10 characters. Negative
controls prove the gate can fail: a golden file with its security contexts removed gets the matching
failed checks, and a suppression without a reason is caught.

checkov lives in `.venv-checkov` (scripts/install-checkov.sh). Without it these tests are skipped with a
message saying how to install it, except under CI=true, where a missing gate is a failure.
"""

from __future__ import annotations

import os
from pathlib import Path

import cdk8s
import cdk8s_plus_28 as kplus
import pytest
import yaml

from ollama_constructs import _checkov
from ollama_constructs._checkov import skip_check, skip_checks
from tests.conftest import REPO
from tests.support import checkov_gate as gate
from tests.support.checkov_gate import CheckovReport, run_checkov

SCANNED = {"dist": REPO / "dist", "golden": REPO / "tests" / "golden"}
SEED_GOLDEN = REPO / "tests" / "golden" / "seed.k8s.yaml"

SECURITY_CONTEXT_CHECKS = {
    "CKV_K8S_20": "allowPrivilegeEscalation",
    "CKV_K8S_22": "read-only root filesystem",
    "CKV_K8S_23": "runAsNonRoot / root containers",
    "CKV_K8S_28": "NET_RAW capability",
    "CKV_K8S_29": "pod securityContext",
    "CKV_K8S_30": "container securityContext",
    "CKV_K8S_31": "seccomp RuntimeDefault",
    "CKV_K8S_37": "capabilities minimized",
    "CKV_K8S_40": "high UID",
}
"""Checks that our security contexts satisfy: removing them must make each fail."""


def require_checkov() -> Path:
    """The checkov executable; a skip (a failure under CI=true) when it is missing or the wrong version."""
    problem = gate.checkov_problem()
    if problem is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true and the checkov gate cannot run: {problem}")
        pytest.skip(problem)
    checkov = gate.find_checkov()
    assert checkov is not None
    return checkov


@pytest.fixture(scope="session")
def checkov() -> Path:
    return require_checkov()


@pytest.fixture(scope="session")
def reports(checkov: Path) -> dict[str, CheckovReport]:
    """One checkov run per scanned directory, shared by the tests."""
    return {name: run_checkov(path, checkov=checkov) for name, path in SCANNED.items()}


def short_reasons(report: CheckovReport) -> list[str]:
    return [str(s) for s in report.skipped if len(s.reason.strip()) < _checkov.MIN_REASON_LENGTH]


# --- the gate over what the repo ships ---------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("name", SCANNED)
def test_checkov_scans_the_manifests(name: str, reports: dict[str, CheckovReport]) -> None:
    report = reports[name]
    assert report.version == gate.CHECKOV_VERSION
    assert report.resource_count > 0, f"checkov found no Kubernetes resource under {SCANNED[name]}"
    assert report.passed > 0
    assert not report.parsing_errors, f"checkov could not parse: {report.parsing_errors}"


@pytest.mark.slow
@pytest.mark.parametrize("name", SCANNED)
def test_checkov_reports_no_failed_check(name: str, reports: dict[str, CheckovReport]) -> None:
    failed = reports[name].failed
    assert not failed, (
        f"checkov failed {len(failed)} check(s) under {SCANNED[name].relative_to(REPO)}; fix the manifest or "
        "suppress it next to the object with ollama_constructs._checkov.skip_check(obj, id, reason):\n"
        + "\n".join(f"  {f}" for f in failed)
    )


@pytest.mark.slow
@pytest.mark.parametrize("name", SCANNED)
def test_every_skip_has_a_reason(name: str, reports: dict[str, CheckovReport]) -> None:
    short = short_reasons(reports[name])
    assert not short, f"suppressions need a reason of at least {_checkov.MIN_REASON_LENGTH} characters:\n" + "\n".join(
        short
    )


# --- negative controls: the gate can fail ------------------------------------------------------------------


def without_security_contexts(docs: list[dict]) -> list[dict]:
    for doc in docs:
        if doc and doc.get("kind") == "Deployment":
            spec = doc["spec"]["template"]["spec"]
            spec.pop("securityContext", None)
            for key in ("containers", "initContainers"):
                for c in spec.get(key, []):
                    c.pop("securityContext", None)
    return docs


@pytest.mark.slow
def test_a_golden_file_without_security_contexts_fails(checkov: Path, tmp_path: Path) -> None:
    docs = list(yaml.safe_load_all(SEED_GOLDEN.read_text()))
    (tmp_path / "original").mkdir()
    (tmp_path / "original" / "seed.k8s.yaml").write_text(SEED_GOLDEN.read_text())
    (tmp_path / "stripped").mkdir()
    (tmp_path / "stripped" / "seed.k8s.yaml").write_text(yaml.safe_dump_all(without_security_contexts(docs)))

    original = run_checkov(tmp_path / "original", checkov=checkov)
    stripped = run_checkov(tmp_path / "stripped", checkov=checkov)

    assert not original.failed_ids & set(SECURITY_CONTEXT_CHECKS), "the golden file itself fails these"
    missing = {k: v for k, v in SECURITY_CONTEXT_CHECKS.items() if k not in stripped.failed_ids}
    assert not missing, f"checkov did not fail the stripped copy on {missing}"
    failed = [f for f in stripped.failed if f.check_id == "CKV_K8S_20"]
    assert failed and failed[0].resource == "Deployment.ml-workloads.ollama-phi" and failed[0].file == "seed.k8s.yaml"


POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: probe
  namespace: checks
  annotations:
    checkov.io/skip1: CKV_K8S_43=pinned by release tag, digest unknown offline
    checkov.io/skip2: CKV_K8S_15
spec:
  containers:
    - name: app
      image: docker.io/library/busybox:1.36
"""


@pytest.mark.slow
def test_skips_and_their_reasons_are_reported(checkov: Path, tmp_path: Path) -> None:
    (tmp_path / "pod.yaml").write_text(POD)
    report = run_checkov(tmp_path, checkov=checkov)
    reasons = {s.check_id: s.reason for s in report.skipped}
    assert reasons == {"CKV_K8S_43": "pinned by release tag, digest unknown offline", "CKV_K8S_15": ""}
    assert {"CKV_K8S_43", "CKV_K8S_15"}.isdisjoint(report.failed_ids)
    assert short_reasons(report) == [
        "CKV_K8S_15 Image Pull Policy should be Always: Pod.checks.probe (pod.yaml): <no reason>"
    ]


@pytest.mark.slow
def test_an_empty_directory_scans_nothing(checkov: Path, tmp_path: Path) -> None:
    report = run_checkov(tmp_path, checkov=checkov)
    assert (report.resource_count, report.failed, report.skipped) == (0, (), ())


@pytest.mark.slow
def test_a_crash_is_an_error_not_a_pass(checkov: Path, tmp_path: Path) -> None:
    # checkov splits a skip annotation on "=" and crashes on a second one (skip_check refuses such reasons).
    (tmp_path / "pod.yaml").write_text(POD.replace("CKV_K8S_15", "CKV_K8S_15=a=b"))
    with pytest.raises(gate.CheckovError, match="exited 2"):
        run_checkov(tmp_path, checkov=checkov)


def test_a_missing_checkov_fails_under_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gate, "checkov_problem", lambda: "checkov is not installed: run scripts/install-checkov.sh")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true and the checkov gate cannot run"):
        require_checkov()
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception, match="install-checkov.sh"):
        require_checkov()


def test_the_report_parser_reads_an_empty_summary() -> None:
    data = {
        "passed": 0,
        "failed": 0,
        "skipped": 0,
        "parsing_errors": 0,
        "resource_count": 0,
        "checkov_version": "3.3.30",
    }
    report = gate.parse_report(Path("."), data)
    assert (report.resource_count, report.failed, report.skipped, report.version) == (0, (), (), "3.3.30")


# --- skip_check: suppressions written next to the object ---------------------------------------------------


def new_object(kind: str = "Deployment") -> cdk8s.ApiObject:
    chart = cdk8s.Chart(cdk8s.Testing.app(), "test")
    return cdk8s.ApiObject(chart, "obj", api_version="apps/v1", kind=kind)


def annotations(obj: cdk8s.ApiObject) -> dict[str, str]:
    return obj.to_json()["metadata"].get("annotations", {})


def test_skips_are_numbered_in_call_order() -> None:
    obj = new_object()
    skip_check(obj, "CKV_K8S_43", "the image is pinned by its release tag")
    skip_check(obj, "CKV2_K8S_6", "  NetworkPolicy arrives with issue 12  ")
    skip_check(obj, "CKV_K8S_15", "IfNotPresent: the tag is immutable")
    assert annotations(obj) == {
        "checkov.io/skip1": "CKV_K8S_43=the image is pinned by its release tag",
        "checkov.io/skip2": "CKV2_K8S_6=NetworkPolicy arrives with issue 12",
        "checkov.io/skip3": "CKV_K8S_15=IfNotPresent: the tag is immutable",
    }


def test_numbering_is_per_object_and_continues_after_existing_skips() -> None:
    first, second = new_object(), new_object("StatefulSet")
    first.metadata.add_annotation("checkov.io/skip4", "CKV_K8S_21=namespace is set by the chart")
    first.metadata.add_annotation("example.com/other", "x")
    skip_check(first, "CKV_K8S_43", "the image is pinned by its release tag")
    skip_check(second, "CKV_K8S_43", "the image is pinned by its release tag")
    assert annotations(first)["checkov.io/skip5"] == "CKV_K8S_43=the image is pinned by its release tag"
    assert annotations(second) == {"checkov.io/skip1": "CKV_K8S_43=the image is pinned by its release tag"}


@pytest.mark.parametrize(
    ("check_id", "reason", "message"),
    [
        ("CKV_K8S_43", "too short", "at least 10 characters"),
        ("CKV_K8S_43", "   padded   ", "at least 10 characters"),
        ("CKV_K8S_43", "", "at least 10 characters"),
        ("CKV_K8S_43", "digest=unknown offline", "must not contain '='"),
        ("CKV_K8S_43", "first line\nsecond line", "one line"),
        ("K8S_43", "the image is pinned by tag", "not a checkov check id"),
        ("ckv_k8s_43", "the image is pinned by tag", "not a checkov check id"),
    ],
)
def test_bad_skips_are_refused(check_id: str, reason: str, message: str) -> None:
    obj = new_object()
    with pytest.raises(ValueError, match=message):
        skip_check(obj, check_id, reason)
    assert annotations(obj) == {}


def test_a_check_is_skipped_once_per_object() -> None:
    obj = new_object()
    skip_check(obj, "CKV_K8S_43", "the image is pinned by its release tag")
    with pytest.raises(ValueError, match="CKV_K8S_43 is already skipped"):
        skip_check(obj, "CKV_K8S_43", "a second reason for the same check")


def plus_deployment() -> tuple[cdk8s.Chart, kplus.Deployment]:
    chart = cdk8s.Chart(cdk8s.Testing.app(), "test", namespace="checks")
    deployment = kplus.Deployment(
        chart,
        "web",
        containers=[kplus.ContainerProps(image="docker.io/library/busybox:1.36", port_number=8080)],
    )
    return chart, deployment


def test_skips_land_on_a_cdk8s_plus_object() -> None:
    chart, deployment = plus_deployment()
    skip_check(deployment, "CKV_K8S_43", "the image is pinned by its release tag")
    skip_check(cdk8s.ApiObject.of(deployment), "CKV_K8S_15", "IfNotPresent: the tag is immutable")
    (synthesized,) = [m for m in cdk8s.Testing.synth(chart) if m["kind"] == "Deployment"]
    assert synthesized["metadata"]["annotations"] == {
        "checkov.io/skip1": "CKV_K8S_43=the image is pinned by its release tag",
        "checkov.io/skip2": "CKV_K8S_15=IfNotPresent: the tag is immutable",
    }


@pytest.mark.slow
def test_checkov_honours_the_annotations_skip_check_writes(checkov: Path, tmp_path: Path) -> None:
    chart, deployment = plus_deployment()
    before = tmp_path / "before"
    before.mkdir()
    (before / "chart.k8s.yaml").write_text(cdk8s.Yaml.stringify(*cdk8s.Testing.synth(chart)))
    assert "CKV_K8S_43" in run_checkov(before, checkov=checkov).failed_ids

    skip_check(deployment, "CKV_K8S_43", "the image is pinned by its release tag")
    skip_check(deployment, "CKV2_K8S_6", "NetworkPolicy is tracked as a separate issue")
    after = tmp_path / "after"
    after.mkdir()
    (after / "chart.k8s.yaml").write_text(cdk8s.Yaml.stringify(*cdk8s.Testing.synth(chart)))
    report = run_checkov(after, checkov=checkov)
    assert {"CKV_K8S_43", "CKV2_K8S_6"}.isdisjoint(report.failed_ids)
    assert {(s.check_id, s.reason) for s in report.skipped} == {
        ("CKV_K8S_43", "the image is pinned by its release tag"),
        ("CKV2_K8S_6", "NetworkPolicy is tracked as a separate issue"),
    }


def test_several_skips_at_once_continue_the_numbering() -> None:
    obj = new_object()
    skip_check(obj, "CKV_K8S_43", "the image is pinned by its release tag")
    skip_checks(obj, ("CKV_K8S_8", "the sidecar is a reconcile loop"), ("CKV_K8S_9", "the sidecar is a reconcile loop"))
    assert annotations(obj) == {
        "checkov.io/skip1": "CKV_K8S_43=the image is pinned by its release tag",
        "checkov.io/skip2": "CKV_K8S_8=the sidecar is a reconcile loop",
        "checkov.io/skip3": "CKV_K8S_9=the sidecar is a reconcile loop",
    }


@pytest.mark.parametrize(
    "checks",
    [
        (("CKV_K8S_8", "the sidecar is a reconcile loop"), ("CKV_K8S_8", "the same check a second time")),
        (("CKV_K8S_8", "the sidecar is a reconcile loop"), ("CKV_K8S_9", "short")),
    ],
    ids=["duplicate", "bad-reason"],
)
def test_several_skips_at_once_add_nothing_when_one_is_refused(checks) -> None:
    obj = new_object()
    with pytest.raises(ValueError):
        skip_checks(obj, *checks)
    assert annotations(obj) == {}
