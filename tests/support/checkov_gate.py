"""Run checkov (offline) over a directory of manifests and return what failed and what was skipped.

checkov lives in its own venv, `.venv-checkov` (scripts/install-checkov.sh): its ~100 pinned dependencies
would clash with the library's. `find_checkov()` looks there first, then `$CHECKOV_BIN`, then PATH.

    report = run_checkov(REPO / "dist")
    report.failed   # (FailedCheck(check_id, check_name, resource, file, lines), ...)
    report.skipped  # (SkippedCheck(check_id, check_name, resource, file, reason), ...)

checkov runs as `checkov -d . --framework kubernetes --skip-download -o json --compact` with the scanned
directory as its working directory: `--skip-download` keeps it offline (no guideline download), and `-d .`
keeps its file filter from dropping everything when the repo itself sits below a hidden directory (it ignores
any path containing "/."). No `--quiet`: with it the JSON report leaves out the skipped checks.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
CHECKOV_VERSION = "3.3.30"
"""The version scripts/install-checkov.sh installs and the gate expects."""
CHECKOV_VENV = REPO / ".venv-checkov"
INSTALL_HINT = "run scripts/install-checkov.sh (installs checkov into .venv-checkov, about 20 s)"

NO_REASON = "No comment provided"
"""What checkov reports as the reason of a skip annotation without `=reason`."""


class CheckovError(RuntimeError):
    """checkov could not run, crashed, or printed something that is not its JSON report."""


@dataclass(frozen=True)
class FailedCheck:
    check_id: str
    check_name: str
    resource: str
    """checkov's resource id, e.g. `Deployment.ml-workloads.ollama-phi`."""
    file: str
    """Path relative to the scanned directory."""
    lines: tuple[int, int]

    def __str__(self) -> str:
        return f"{self.check_id} {self.check_name}: {self.resource} ({self.file}:{self.lines[0]}-{self.lines[1]})"


@dataclass(frozen=True)
class SkippedCheck:
    check_id: str
    check_name: str
    resource: str
    file: str
    reason: str
    """The text after `=` in the `checkov.io/skipN` annotation; empty when none was given."""

    def __str__(self) -> str:
        return f"{self.check_id} {self.check_name}: {self.resource} ({self.file}): {self.reason or '<no reason>'}"


@dataclass(frozen=True)
class CheckovReport:
    directory: Path
    failed: tuple[FailedCheck, ...]
    skipped: tuple[SkippedCheck, ...]
    passed: int
    resource_count: int
    parsing_errors: tuple[str, ...]
    version: str

    @property
    def failed_ids(self) -> set[str]:
        return {f.check_id for f in self.failed}


def find_checkov() -> Path | None:
    """The checkov executable: `.venv-checkov/bin/checkov`, else `$CHECKOV_BIN`, else `checkov` on PATH."""
    candidates = [CHECKOV_VENV / "bin" / "checkov"]
    if os.environ.get("CHECKOV_BIN"):
        candidates.append(Path(os.environ["CHECKOV_BIN"]))
    if found := shutil.which("checkov"):
        candidates.append(Path(found))
    return next((c for c in candidates if c.is_file() and os.access(c, os.X_OK)), None)


def checkov_version(checkov: Path) -> str:
    """What `checkov --version` prints (its last line), or "" when it does not run."""
    try:
        out = subprocess.run([str(checkov), "--version"], capture_output=True, text=True, timeout=120, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    lines = out.stdout.strip().splitlines()
    return lines[-1].strip() if out.returncode == 0 and lines else ""


def checkov_problem() -> str | None:
    """Why the gate cannot run here (missing or wrong version), or None when it can."""
    checkov = find_checkov()
    if checkov is None:
        return f"checkov is not installed: {INSTALL_HINT}"
    version = checkov_version(checkov)
    if version != CHECKOV_VERSION:
        return f"{checkov} is checkov {version or '(broken)'}, the gate needs {CHECKOV_VERSION}: {INSTALL_HINT}"
    return None


def run_checkov(directory: Path, *, checkov: Path | None = None, timeout: float = 600) -> CheckovReport:
    """Scan the Kubernetes manifests below `directory` with checkov, offline.

    Raises:
        CheckovError: checkov is missing, exits with a code other than 0 (all passed) or 1 (some failed),
            or does not print its JSON report.
    """
    directory = Path(directory).resolve()
    if not directory.is_dir():
        raise CheckovError(f"{directory} is not a directory")
    checkov = checkov or find_checkov()
    if checkov is None:
        raise CheckovError(f"checkov is not installed: {INSTALL_HINT}")
    cmd = [str(checkov), "-d", ".", "--framework", "kubernetes", "--skip-download", "-o", "json", "--compact"]
    env = {**os.environ, "LOG_LEVEL": "WARNING"}
    try:
        proc = subprocess.run(cmd, cwd=directory, capture_output=True, text=True, timeout=timeout, env=env, check=False)
    except subprocess.TimeoutExpired as e:
        raise CheckovError(f"checkov did not finish within {timeout:.0f}s on {directory}") from e
    if proc.returncode not in (0, 1):
        raise CheckovError(f"checkov exited {proc.returncode} on {directory}:\n{_tail(proc.stderr or proc.stdout)}")
    try:
        data = json.loads(proc.stdout)
    except json.JSONDecodeError as e:
        raise CheckovError(f"checkov printed no JSON report for {directory}:\n{_tail(proc.stdout)}") from e
    return parse_report(directory, data)


def parse_report(directory: Path, data: Any) -> CheckovReport:
    """A `CheckovReport` from checkov's `-o json` output (a dict for one framework, a list for several)."""
    reports = data if isinstance(data, list) else [data]
    failed: list[FailedCheck] = []
    skipped: list[SkippedCheck] = []
    passed = resources = 0
    parsing_errors: list[str] = []
    version = ""
    for report in reports:
        if not isinstance(report, dict):
            raise CheckovError(f"unexpected checkov report: {report!r:.200}")
        # With nothing to scan checkov prints only the summary, at the top level.
        summary = report.get("summary", report)
        passed += int(summary.get("passed", 0))
        resources += int(summary.get("resource_count", 0))
        version = summary.get("checkov_version", version)
        results = report.get("results", {})
        parsing_errors += [str(p) for p in results.get("parsing_errors", [])]
        for r in results.get("failed_checks", []):
            failed.append(
                FailedCheck(
                    r["check_id"],
                    r.get("check_name", ""),
                    r.get("resource", ""),
                    _relative(r),
                    tuple(r.get("file_line_range") or (0, 0)),  # type: ignore[arg-type]
                )
            )
        for r in results.get("skipped_checks", []):
            reason = (r.get("check_result") or {}).get("suppress_comment", "")
            skipped.append(
                SkippedCheck(
                    r["check_id"],
                    r.get("check_name", ""),
                    r.get("resource", ""),
                    _relative(r),
                    "" if reason == NO_REASON else reason.strip(),
                )
            )
    order = lambda c: (c.file, c.resource, c.check_id)  # noqa: E731
    return CheckovReport(
        directory=Path(directory),
        failed=tuple(sorted(failed, key=order)),
        skipped=tuple(sorted(skipped, key=order)),
        passed=passed,
        resource_count=resources,
        parsing_errors=tuple(parsing_errors),
        version=version,
    )


def _relative(result: dict[str, Any]) -> str:
    """checkov's `file_path` ("/sub/x.yaml", relative to the working directory) without the leading slash."""
    return str(result.get("file_path", "")).lstrip("/")


def _tail(text: str, lines: int = 30) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])
