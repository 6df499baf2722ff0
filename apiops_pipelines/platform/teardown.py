"""Taking a platform down for good: `down()`, then SIGKILL by PID whatever of its process tree survived it.

For tests, benchmarks and the demo, which must never leave HAProxy, supervisord or a service running, even
when `down()` itself is what failed. Processes are found by PID through /proc, never by name.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

from apiops_pipelines.platform.platform import Platform
from apiops_pipelines.processes import pid_alive

MAX_PROCESSES = 10_000


def process_tree(pid: int) -> list[int]:
    """`pid` and its descendants (HAProxy's master and its workers, supervisord's programs), from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo and len(found) < MAX_PROCESSES:
        current = todo.pop()
        found.append(current)
        todo += children.get(current, [])
    return found


def take_down(platform: Platform) -> None:
    pid = platform.supervisor.pid()
    pids = process_tree(pid) if pid else []
    try:
        platform.down()
    finally:
        for survivor in [p for p in pids if pid_alive(p)]:
            try:
                os.kill(survivor, signal.SIGKILL)
            except ProcessLookupError:
                pass
