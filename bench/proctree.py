"""Run a command and measure its wall time and the peak summed RSS of its whole process tree.

Linux only (reads /proc). Every ~10 ms the poller walks the tree from the child's pid through
`/proc/<pid>/task/<tid>/children` and sums `/proc/<pid>/statm` resident pages of every process in it
(python + the jsii Node kernel, + the CLI's node for `cdk8s synth`). The peak is the largest such sum.

Summed RSS counts pages shared between the processes (shared libraries) once per process, as the
figures of the shared tooling notes do; `/usr/bin/time -v` would report only the largest single process.
A process that lives less than one polling interval may be missed; the report also gives the sum over
processes of their own high-water mark (`VmHWM`, read at the last poll that saw each process), an upper
bound that no polling gap can miss.
"""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

PAGE = os.sysconf("SC_PAGE_SIZE")
MIB = 1024 * 1024


@dataclass
class Measurement:
    """What one run of a command took."""

    argv: list[str]
    returncode: int
    wall_s: float
    peak_rss_mib: float
    """Largest sampled sum of the tree's RSS."""
    hwm_sum_mib: float
    """Sum of each seen process's own peak RSS (VmHWM): an upper bound of the tree's peak."""
    samples: int
    processes: int
    """Distinct processes seen in the tree."""
    stdout: str = ""
    stderr: str = ""
    names: dict[int, str] = field(default_factory=dict)


def _children(pid: int) -> list[int]:
    found: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found
    for tid in tasks:
        try:
            with open(f"/proc/{pid}/task/{tid}/children", "rb") as handle:
                found.extend(int(x) for x in handle.read().split())
        except OSError:
            continue
    return found


def _tree(root: int) -> list[int]:
    pids, stack = [], [root]
    while stack:
        pid = stack.pop()
        pids.append(pid)
        stack.extend(_children(pid))
    return pids


def _rss_pages(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm", "rb") as handle:
            return int(handle.read().split()[1])
    except (OSError, IndexError, ValueError):
        return 0


def _hwm_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status", "rb") as handle:
            for line in handle:
                if line.startswith(b"VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def _name(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/comm", encoding="utf-8") as handle:
            return handle.read().strip()
    except OSError:
        return "?"


def measure(
    argv: list[str],
    *,
    cwd: str | Path | None = None,
    env: dict[str, str] | None = None,
    interval: float = 0.01,
    timeout: float = 900.0,
) -> Measurement:
    """Run `argv` to completion, polling its process tree every `interval` seconds.

    stdout and stderr go to temporary files (not pipes), so a chatty child never blocks on a full pipe
    while the poller sleeps.
    """
    import tempfile

    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        peak_pages = 0
        samples = 0
        hwm: dict[int, int] = {}
        names: dict[int, str] = {}
        deadline = start + timeout
        while proc.poll() is None:
            pids = _tree(proc.pid)
            total = 0
            for pid in pids:
                total += _rss_pages(pid)
                value = _hwm_kib(pid)
                if value:
                    hwm[pid] = max(hwm.get(pid, 0), value)
                if pid not in names:
                    names[pid] = _name(pid)
            peak_pages = max(peak_pages, total)
            samples += 1
            if time.perf_counter() > deadline:
                proc.kill()
                proc.wait()
                raise TimeoutError(f"{argv[:3]}... ran longer than {timeout} s")
            time.sleep(interval)
        wall = time.perf_counter() - start
        out.seek(0)
        err.seek(0)
        return Measurement(
            argv=list(argv),
            returncode=proc.returncode,
            wall_s=wall,
            peak_rss_mib=peak_pages * PAGE / MIB,
            hwm_sum_mib=sum(hwm.values()) / 1024,
            samples=samples,
            processes=len(names),
            stdout=out.read().decode("utf-8", "replace"),
            stderr=err.read().decode("utf-8", "replace"),
            names=names,
        )
