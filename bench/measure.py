"""Run a command as a child process, time-bound, and measure what a user would see: wall time and peak memory.

Peak memory is the largest resident set of the process or any descendant it waited for (`wait4`'s rusage,
what `/usr/bin/time` reports): every tool here runs as one process (`node` or `python`), so that is the
tool's peak. Start-up, imports and writing the report all count, as they do on a laptop or in CI.
"""

from __future__ import annotations

import os
import signal
import statistics
import subprocess
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path


@dataclass
class Run:
    seconds: float
    peak_mb: float
    cpu_s: float  # user + system: less sensitive than wall time to other work on the machine
    exit_code: int | None  # None: killed at the time limit
    stderr_tail: str = ""
    out_of_memory: bool = False  # node said so (its report comes before a long native stack trace)


@dataclass
class Measured:
    tool: str
    command: list[str]
    success_codes: tuple[int, ...] = (0, 1)  # exit codes of a finished run (1: findings, for most tools)
    runs: list[Run] = field(default_factory=list)
    count: int | None = None  # findings or changes the tool reported (last run)
    note: str = ""  # why a run did not finish

    @property
    def ok(self) -> bool:
        """Every run finished with a result."""
        return bool(self.runs) and all(r.exit_code in self.success_codes for r in self.runs)

    @property
    def best_s(self) -> float:
        return min(r.seconds for r in self.runs)

    @property
    def median_s(self) -> float:
        return statistics.median(r.seconds for r in self.runs)

    @property
    def best_cpu_s(self) -> float:
        return min(r.cpu_s for r in self.runs)

    @property
    def peak_mb(self) -> float:
        return max(r.peak_mb for r in self.runs)

    def as_json(self) -> dict:
        summary = {"ok": self.ok, "best_s": self.best_s, "median_s": self.median_s, "best_cpu_s": self.best_cpu_s,
                   "max_peak_mb": self.peak_mb} if self.runs else {"ok": False}  # fmt: skip
        return {**asdict(self), **summary}


def run_once(command: list[str], *, cwd: Path, stdout: Path, timeout_s: float, env: dict | None = None) -> Run:
    """One run; the whole process group is killed if it outlives `timeout_s`."""
    with open(stdout, "wb") as out, open(stdout.with_suffix(stdout.suffix + ".stderr"), "w+b") as err:
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=cwd, stdout=out, stderr=err, env=env, start_new_session=True)
        deadline = started + timeout_s
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                code: int | None = os.waitstatus_to_exitcode(status)
                break
            if time.perf_counter() > deadline:
                os.killpg(process.pid, signal.SIGKILL)  # the group this function started, nothing else
                _, status, usage = os.wait4(process.pid, 0)
                code = None
                break
            time.sleep(0.005)
        elapsed = time.perf_counter() - started
        process.returncode = -9 if code is None else code  # reaped here: Popen must not wait for it again
        err.seek(0)
        errors = err.read()
    return Run(elapsed, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime, code,
               errors[-800:].decode("utf-8", "replace"), b"heap out of memory" in errors)  # fmt: skip


def why_not_finished(run: Run, timeout_s: float) -> str:
    if run.exit_code is None:
        return f"killed at the {timeout_s:.0f} s limit"
    if run.out_of_memory:
        return f"out of memory (exit {run.exit_code})"
    return f"exit {run.exit_code}"


def measure_round(measured: Measured, *, cwd: Path, stdout: Path, timeout_s: float, env: dict | None = None) -> Run:
    run = run_once(measured.command, cwd=cwd, stdout=stdout, timeout_s=timeout_s, env=env)
    measured.runs.append(run)
    state = "done" if run.exit_code in measured.success_codes else why_not_finished(run, timeout_s)
    if state != "done":
        measured.note = state
    print(f"  {measured.tool}: {run.seconds:.2f} s wall, {run.cpu_s:.2f} s CPU, {run.peak_mb:.0f} MB, {state}",
          flush=True)  # fmt: skip
    return run


def ratio(peer: Measured, ours: Measured, attribute: str) -> str:
    """peer / ours as `12.3x`; `> 12.3x` when the peer did not finish (it needed at least that long)."""
    if not (peer.runs and ours.ok):
        return "n/a"
    mine = getattr(ours, attribute)
    if not mine:
        return "n/a"
    value = getattr(peer, attribute) / mine
    return f"{value:.1f}x" if peer.ok else f"> {value:.1f}x"


def table(rows: list[Measured], ours: Measured, count_label: str) -> str:
    """The Markdown table every benchmark prints: one row per tool, ratios against ours."""
    lines = [f"| tool | best wall s | median wall s | best CPU s | peak MB | {count_label} | wall vs ours | "
             "CPU vs ours | memory vs ours |", "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]  # fmt: skip
    for row in rows:
        if not row.runs:
            continue
        name = row.tool if row.ok else f"{row.tool} (did not finish: {row.note})"
        ratios = ["-", "-", "-"] if row is ours else [ratio(row, ours, a) for a in ("best_s", "best_cpu_s", "peak_mb")]
        count = "" if row.count is None or not row.ok else row.count
        lines.append(f"| {name} | {row.best_s:.2f} | {row.median_s:.2f} | {row.best_cpu_s:.2f} | {row.peak_mb:.0f} | "
                     f"{count} | {' | '.join(ratios)} |")  # fmt: skip
    return "\n".join(lines)
