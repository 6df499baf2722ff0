"""Files a run produces (bundled specs, reports), stored under `$APIOPS_HOME/artifacts/<api>/<sha>/`."""

from __future__ import annotations

import os
from pathlib import Path


class ArtifactStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def folder(self, api: str, commit: str) -> Path:
        return self.root / api / commit

    def write(self, api: str, commit: str, name: str, data: bytes) -> Path:
        """Write atomically: a reader never sees half a file."""
        target = self.folder(api, commit) / name
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{name}.{os.getpid()}.tmp")
        tmp.write_bytes(data)
        tmp.replace(target)
        return target
