"""Staging instances: one fresh instance of an API per run, private to that run, torn down when it ends.

The `staging_deployment` asset records what it started here (`$APIOPS_HOME/staging/<run id>.json`); the
teardown sensor stops the instances of every run that has finished, whatever its outcome, and a platform
restart does not lose track of them. No Dagster here.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

from apiops_pipelines.delivery.atomic_write import atomic_write
from apiops_pipelines.estate.api_config import ServiceConfig
from apiops_pipelines.platform import Platform, PlatformError, ServiceInstance
from apiops_pipelines.platform.supervisor import SupervisorError

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
        atomic_write(self._file(instance.run_id), json.dumps([asdict(i) for i in instances], indent=2).encode())

    def instances(self, run_id: str) -> list[StagingInstance]:
        try:
            return [StagingInstance(**item) for item in json.loads(self._file(run_id).read_text())]
        except FileNotFoundError:
            return []

    def run_ids(self) -> list[str]:
        return sorted(p.stem for p in self.root.glob("*.json")) if self.root.is_dir() else []

    def forget(self, run_id: str) -> None:
        self._file(run_id).unlink(missing_ok=True)


@dataclass(frozen=True)
class StartedStaging:
    instance: ServiceInstance
    record: StagingInstance  # what the staging registry holds for the run


def start_staging(platform: Platform, registry: StagingRegistry, run_id: str, api: str, repo: Path, commit: str,
                  api_folder: str, service: ServiceConfig, environ: Mapping[str, str]) -> StartedStaging:  # fmt: skip
    """A fresh instance of `commit`, recorded under the run (the staging_teardown sensor stops it should the run
    die). Raises ServiceStartError or PlatformError when it does not start or cannot be recorded; then nothing is
    left running."""
    started = time.time()
    instance = platform.start_service(api, repo, commit, api_folder, service, environ)
    try:  # until it is recorded, nobody else knows to stop it
        info = platform.supervisor.info(instance.program) if instance.program else None
        url = f"{'https' if instance.tls else 'http'}://{instance.address}"
        record = StagingInstance(run_id, api, commit, url, instance.program, (info or {}).get("pid") or None, started)
        registry.record(record)
    except BaseException as exc:
        if instance.program:
            try:
                platform.stop_service(instance.program)
            except Exception as stop:  # noqa: BLE001 (the first failure is the one to report)
                exc.add_note(f"and stopping {instance.program} failed too: {stop}")
        if isinstance(exc, (SupervisorError, OSError)):
            raise PlatformError(f"the staging instance {instance.program} of '{api}' at {commit[:12]} started but "
                                f"could not be recorded ({exc}); it was stopped again") from exc
        raise
    return StartedStaging(instance, record)
