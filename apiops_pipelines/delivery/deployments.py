"""What runs in production for each API: its stable release and, while one is judged, its canary.

The platform state knows the servers of each backend (address, weight, program, commit); this record knows
their roles and which release (spec version, run) each one is, so a restart, the canary watchdog and the
rollback job all act on the same facts. `$APIOPS_HOME/deployments/<api>.json`, replaced atomically under a
per-API lock. No Dagster here.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from pathlib import Path

_API = re.compile(r"[a-z0-9-]{1,63}\Z")


@dataclass(frozen=True)
class DeployedRelease:
    commit: str
    spec_version: str
    spec_sha256: str
    server: str  # the HAProxy server name in the API's backend
    address: str  # host:port
    program: str | None  # the supervisord program; None for an upstream deployed elsewhere
    run_id: str  # the run that deployed it ("" for the CLI)
    deployed_at: float
    tls: bool = False  # an upstream that speaks https

    @property
    def target(self) -> str:
        """What the platform routes to: host:port, or an https URL for a TLS upstream."""
        return f"https://{self.address}" if self.tls else self.address


@dataclass(frozen=True)
class ApiDeployment:
    api: str
    stable: DeployedRelease | None = None
    canary: DeployedRelease | None = None
    traffic_pid: int | None = None  # the canary's generated-traffic process group, stopped if its run dies
    judged_by: str | None = None  # the process judging the canary (processes.process_identity)

    def with_canary(self, canary: DeployedRelease | None, traffic_pid: int | None = None,
                    judged_by: str | None = None) -> ApiDeployment:  # fmt: skip
        return replace(self, canary=canary, traffic_pid=traffic_pid,
                       judged_by=judged_by if canary is not None else None)


class DeploymentRegistry:
    def __init__(self, root: Path) -> None:
        self.root = root

    def _file(self, api: str) -> Path:
        if not _API.match(api):
            raise ValueError(f"not an API name: {api!r}")
        return self.root / f"{api}.json"

    @contextmanager
    def locked(self, api: str) -> Iterator[None]:
        """Hold the API's record: a run, the watchdog sensor and the rollback job never interleave changes."""
        self.root.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.root / f".{api}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def load(self, api: str) -> ApiDeployment:
        try:
            data = json.loads(self._file(api).read_text(encoding="utf-8"))
        except FileNotFoundError:
            return ApiDeployment(api)
        except ValueError as exc:
            raise DeploymentRecordError(f"{self._file(api)} is damaged ({exc}); restore it from the platform "
                                        "state or delete it (the API then counts as never released)") from None
        return ApiDeployment(
            api, _release(data.get("stable")), _release(data.get("canary")), data.get("traffic_pid"),
            data.get("judged_by"),
        )  # fmt: skip

    def save(self, deployment: ApiDeployment) -> None:
        target = self._file(deployment.api)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(asdict(deployment), indent=2), encoding="utf-8")
        tmp.replace(target)

    def apis(self) -> list[str]:
        return sorted(p.stem for p in self.root.glob("*.json")) if self.root.is_dir() else []

    def canaries(self) -> list[ApiDeployment]:
        return [d for d in map(self.load, self.apis()) if d.canary is not None]


class DeploymentRecordError(RuntimeError):
    pass


def _release(data: dict | None) -> DeployedRelease | None:
    return DeployedRelease(**data) if data else None
