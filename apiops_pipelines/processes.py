"""Is a process still running? One answer for the platform, the clone cache and the tests."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path


def pid_alive(pid: int) -> bool:
    """True while `pid` runs. A zombie counts as gone, and one that is our own child is reaped."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    with contextlib.suppress(ChildProcessError):
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][:1] != "Z"
    except (OSError, IndexError):
        return True


def process_identity(pid: int) -> str | None:
    """`<pid>:<start time>`: names one process for good (a pid alone may be reused once it ends); None if gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1].split()
    except (OSError, IndexError):
        return None
    return f"{pid}:{fields[19]}" if len(fields) > 19 else None  # field 22 of stat: start time in clock ticks


def identity_alive(identity: str | None) -> bool:
    """Whether the process `process_identity` named is still the one running (and not a zombie)."""
    if not identity:
        return False
    pid = int(identity.split(":", 1)[0])
    return pid_alive(pid) and process_identity(pid) == identity
