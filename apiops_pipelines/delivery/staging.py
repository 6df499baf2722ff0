"""Staging instances: one fresh instance of an API per run, private to that run, torn down when it ends.

The `staging_deployment` asset records what it started here (`$APIOPS_HOME/staging/<run id>.json`); the
teardown sensor stops the instances of every run that has finished, whatever its outcome, and a platform
restart does not lose track of them. No Dagster here.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import asdict, dataclass
from pathlib import Path

_RUN_ID = re.compile(r"[A-Za-z0-9-]+\Z")


@dataclass(frozen=True)
class StagingInstance:
    run_id: str
    api: str
    commit: str
    url: str
    program: str | None  # None: an upstream deployed elsewhere, nothing to stop
    pid: int | None
    started_at: float


class StagingRegistry:
    def __init__(self, root: Path) -> None:
        self.root = root

    def _file(self, run_id: str) -> Path:
        if not _RUN_ID.match(run_id):
            raise ValueError(f"not a run id: {run_id!r}")
        return self.root / f"{run_id}.json"

    def record(self, instance: StagingInstance) -> None:
        instances = [i for i in self.instances(instance.run_id) if i.program != instance.program] + [instance]
        target = self._file(instance.run_id)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps([asdict(i) for i in instances], indent=2))
        tmp.replace(target)

    def instances(self, run_id: str) -> list[StagingInstance]:
        try:
            return [StagingInstance(**item) for item in json.loads(self._file(run_id).read_text())]
        except FileNotFoundError:
            return []

    def run_ids(self) -> list[str]:
        return sorted(p.stem for p in self.root.glob("*.json")) if self.root.is_dir() else []

    def forget(self, run_id: str) -> None:
        self._file(run_id).unlink(missing_ok=True)
