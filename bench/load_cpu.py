"""Where the CPU went while a load tool ran: each client process, HAProxy, and every core of the machine.

A load tool's processes live longer than its load: locust imports, forks its workers and spawns users before
the first request, and writes its reports after the last. Averaged over their lives the workers look idle
when they were not, so the figures here are taken over the load window: the stretch of `window_s` seconds in
which the client processes together burned the most CPU. Core figures cover everything on the machine,
other work included, which is what "every core used" has to mean on a shared machine.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass

import psutil

SAMPLE_S = 0.2


@dataclass(frozen=True)
class Sample:
    at: float
    cpu_s: dict[tuple[str, int], float]  # (role, pid) -> user + system seconds so far
    cores: list[tuple[float, float]]  # per core: (busy seconds, all seconds) so far


@dataclass(frozen=True)
class Window:
    seconds: float
    share: dict[tuple[str, int], float]  # (role, pid) -> CPU used in the window, 1.0 = one core
    cores: list[float]  # per core: busy fraction in the window

    def clients(self, *roles: str) -> float:
        return sum(share for (role, _), share in self.share.items() if role in roles)

    def of(self, role: str) -> list[float]:
        return [share for (r, _), share in sorted(self.share.items()) if r == role]


class CpuSampler(threading.Thread):
    """Samples this process's descendants (`roles`: a program, or a word of the command line such as
    `locust` in `python -m locust`, -> its role), the `extra` processes, and the machine's cores, until
    stopped."""

    def __init__(self, roles: dict[str, str], extra: dict[str, int]) -> None:
        super().__init__(daemon=True)
        self.roles, self.extra = roles, extra
        self.samples: list[Sample] = []
        self.done = threading.Event()
        self._known: dict[int, tuple[str, psutil.Process] | None] = {}

    def run(self) -> None:
        me = psutil.Process()
        tracked = {pid: (role, psutil.Process(pid)) for role, pid in self.extra.items()}
        while not self.done.wait(SAMPLE_S):
            for child in me.children(recursive=True):
                if child.pid not in self._known:
                    self._known[child.pid] = self._role(child, me.pid)
                if self._known[child.pid] is not None:
                    tracked[child.pid] = self._known[child.pid]
            cpu = {}
            for pid, (role, process) in list(tracked.items()):
                try:
                    times = process.cpu_times()
                except psutil.Error:
                    del tracked[pid]  # exited: its last sample stands for the rest of the run
                    continue
                cpu[(role, pid)] = times.user + times.system
            cores = [(c.user + c.nice + c.system + c.irq + c.softirq + c.steal,
                      c.user + c.nice + c.system + c.irq + c.softirq + c.steal + c.idle + c.iowait)
                     for c in psutil.cpu_times(percpu=True)]  # fmt: skip
            self.samples.append(Sample(time.monotonic(), cpu, cores))

    def _role(self, child: psutil.Process, me: int) -> tuple[str, psutil.Process] | None:
        try:
            words = child.cmdline()
            parent = child.ppid()
        except psutil.Error:
            return None
        for word, role in self.roles.items():
            if word in words or (words and os.path.basename(words[0]) == word):
                # locust's master is the one run_load starts; the workers are forked from it
                return ("master" if parent == me else "worker") if role == "locust" else role, child
        return None

    def stop(self) -> list[Sample]:
        self.done.set()
        self.join()
        return self.samples

    def lifetime_cpu_s(self, *roles: str) -> float:
        """CPU seconds of the processes of `roles` over all of their lives (start-up and shutdown included)."""
        last: dict[tuple[str, int], float] = {}
        for sample in self.samples:
            last.update(sample.cpu_s)
        return sum(cpu for (role, _), cpu in last.items() if role in roles)


def busiest_window(samples: list[Sample], window_s: float, *roles: str) -> Window:
    """The `window_s` seconds in which the processes of `roles` used the most CPU together."""
    if len(samples) < 2:
        raise RuntimeError("too few CPU samples: the run was shorter than the sampling interval")
    keys = sorted({key for sample in samples for key in sample.cpu_s})
    table = [[0.0] * len(keys) for _ in samples]  # CPU seconds so far; 0 before a process exists
    for row, sample in enumerate(samples):
        for column, key in enumerate(keys):
            before = table[row - 1][column] if row else 0.0
            table[row][column] = sample.cpu_s.get(key, before)
    clients = [column for column, (role, _) in enumerate(keys) if role in roles]
    best, end = None, 0
    for start in range(len(samples)):
        while end < len(samples) - 1 and samples[end].at - samples[start].at < window_s:
            end += 1
        span = samples[end].at - samples[start].at
        if span <= 0:
            break
        used = sum(table[end][c] - table[start][c] for c in clients) / span
        if best is None or used > best[0]:
            best = (used, start, end)
        if end == len(samples) - 1:
            break
    _, start, end = best
    span = samples[end].at - samples[start].at
    share = {key: (table[end][c] - table[start][c]) / span for c, key in enumerate(keys)}
    cores = [(b1 - b0) / max(t1 - t0, 1e-9)
             for (b0, t0), (b1, t1) in zip(samples[start].cores, samples[end].cores)]  # fmt: skip
    return Window(span, share, cores)
