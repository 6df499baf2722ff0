"""Replacing a record file atomically: a reader sees the old content or the new, never a half-written file."""

from __future__ import annotations

import os
from pathlib import Path


def atomic_write(target: Path, data: bytes) -> None:
    """Write `data` to a temporary file beside `target` (named by this process), then rename it over `target`."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    tmp.replace(target)
