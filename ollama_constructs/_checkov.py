"""Justified checkov suppressions, written next to the object they justify.

checkov (the manifest scanner the tests run) reads suppressions from metadata annotations of the object
it reports on: `checkov.io/skip1: CKV_K8S_43=reason`, `checkov.io/skip2: ...`. A construct calls

    skip_check(deployment, "CKV_K8S_43", "image pinned by release tag; no digest offline")

and the annotation lands on that object (a cdk8s-plus construct stands for its `ApiObject.of(...)`). For
checks on a Deployment's pods (e.g. CKV2_K8S_6) checkov honours the annotation on the Deployment itself.
"""

from __future__ import annotations

import re

import cdk8s
from constructs import Construct

from . import _scope

ANNOTATION_PREFIX = "checkov.io/skip"
MIN_REASON_LENGTH = 10
"""A reason shorter than this explains nothing to a reviewer."""

_CHECK_ID = re.compile(r"^CKV2?_[A-Z0-9]+_[0-9]+$")
_SKIP_KEY = re.compile(r"^" + re.escape(ANNOTATION_PREFIX) + r"([0-9]+)$")


def skip_check(target: cdk8s.ApiObject | Construct, check_id: str, reason: str) -> None:
    """Suppress checkov's `check_id` on `target`, with `reason` shown in checkov's report.

    `target` is an `ApiObject`, or a construct whose `ApiObject.of(...)` is meant (a cdk8s-plus
    Deployment, Service, ...).

    Adds the annotation `checkov.io/skipN: <check_id>=<reason>`, N counting up from 1 per object in the
    order of the calls, so the synthesized output is deterministic.

    Raises:
        ValueError: `check_id` is not a checkov id (`CKV_K8S_43`, `CKV2_K8S_6`); `reason` is shorter than
            `MIN_REASON_LENGTH` characters, or contains `=` or a line break (checkov splits the
            annotation on `=` and crashes on a second one); or `check_id` is already skipped on the object.
    """
    skip_checks(target, (check_id, reason))


def skip_checks(target: cdk8s.ApiObject | Construct, *checks: tuple[str, str]) -> None:
    """`skip_check` for several `(check_id, reason)` pairs, in order (reading the object's annotations once).

    Raises:
        ValueError: as :func:`skip_check` does, for any of the pairs; then no annotation is added.
    """
    checked = [(check_id, _checked(check_id, reason)) for check_id, reason in checks]
    api_object = _scope.api_object(target)
    metadata = api_object.metadata
    annotations = dict(metadata.to_json().get("annotations") or {})
    numbers = []
    skipped = {}
    for key, value in annotations.items():
        match = _SKIP_KEY.match(key)
        if match:
            numbers.append(int(match.group(1)))
            skipped[value.split("=", 1)[0]] = f"{key}: {value}"
    number = max(numbers, default=0)
    for check_id, _ in checked:
        if check_id in skipped:
            raise ValueError(f"{check_id} is already skipped on {api_object.name} ({skipped[check_id]})")
        skipped[check_id] = "in this call"
    for check_id, reason in checked:
        number += 1
        metadata.add_annotation(f"{ANNOTATION_PREFIX}{number}", f"{check_id}={reason}")


SIDECAR_PROBE_SKIPS: tuple[tuple[str, str], ...] = tuple(
    (
        check_id,
        "probes are on the ollama container; the model-keeper and model-manager sidecars are loops whose "
        "probes would take the pod out of its Service while they load or pull, and they log every step",
    )
    for check_id in ("CKV_K8S_8", "CKV_K8S_9")
)
"""The liveness and readiness checks skipped for a pod's sidecar loops (their probes are the ollama container's)."""


def skip_checks_once(target: cdk8s.ApiObject | Construct, *checks: tuple[str, str]) -> None:
    """`skip_checks` for the pairs whose check is not skipped on `target` yet (two constructs adding
    sidecars to one pod share a reason)."""
    annotations = _scope.api_object(target).metadata.to_json().get("annotations") or {}
    skipped = {value.split("=", 1)[0] for key, value in annotations.items() if _SKIP_KEY.match(key)}
    missing = [(check_id, reason) for check_id, reason in checks if check_id not in skipped]
    if missing:
        skip_checks(target, *missing)


def _checked(check_id: str, reason: str) -> str:
    """`reason`, stripped, when it can go into a checkov skip annotation for `check_id`."""
    if not _CHECK_ID.match(check_id):
        raise ValueError(f"{check_id!r} is not a checkov check id like CKV_K8S_43 or CKV2_K8S_6")
    if "\n" in reason or "\r" in reason:
        raise ValueError(f"the reason to skip {check_id} must be one line")
    reason = reason.strip()
    if "=" in reason:
        raise ValueError(f"the reason to skip {check_id} must not contain '=' (checkov cannot parse it): {reason!r}")
    if len(reason) < MIN_REASON_LENGTH:
        raise ValueError(
            f"the reason to skip {check_id} must say why in at least {MIN_REASON_LENGTH} characters, got {reason!r}"
        )
    return reason


def skip_annotations(*checks: tuple[str, str]) -> dict[str, str]:
    """The annotations of `skip_check`, for objects created with them: `{"checkov.io/skip1": "ID=reason"}`.

    Raises:
        ValueError: as :func:`skip_check` does for a bad id or reason.
    """
    annotations = {}
    for number, (check_id, reason) in enumerate(checks, start=1):
        annotations[f"{ANNOTATION_PREFIX}{number}"] = f"{check_id}={_checked(check_id, reason)}"
    return annotations


def tag_pinned_image_skips(*images: str) -> dict[str, str]:
    """Annotations skipping the two image checks a tag-pinned (not digest-pinned) image cannot pass.

    Empty when every image carries a digest: then CKV_K8S_43 and CKV_K8S_15 pass by themselves.
    """
    if all("@sha256:" in image for image in images):
        return {}
    return skip_annotations(
        (
            "CKV_K8S_43",
            "images are pinned to immutable release tags; a digest cannot be resolved offline at synth time "
            "- set a digest in ollama.image (or the platform default) to pass this check",
        ),
        (
            "CKV_K8S_15",
            "IfNotPresent with a pinned release tag avoids a registry round trip on every pod start; "
            "Always adds no integrity guarantee - a digest does (CKV_K8S_43)",
        ),
    )
