"""What runs in production for each API: its stable release and, while one is judged, its canary.

The platform state knows the servers of each backend (address, weight, program, commit); this record knows
their roles and which release (spec version, run) each one is, so a restart, the canary watchdog and the
rollback job all act on the same facts. `$APIOPS_HOME/deployments/<api>.json`, replaced atomically under a
per-API lock. No Dagster here.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from apiops_pipelines.delivery.atomic_write import atomic_write
from apiops_pipelines.processes import identity_alive

_LOG = logging.getLogger(__name__)
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
    traffic_identity: str | None = None  # that process's processes.process_identity: the pid is still it
    # The process judging the canary (processes.process_identity); None once the canary passed, when it waits
    # for its run's promotion step (in another process under Dagster's multiprocess executor).
    judged_by: str | None = None

    def with_canary(self, canary: DeployedRelease | None, traffic_pid: int | None = None,
                    judged_by: str | None = None, traffic_identity: str | None = None) -> ApiDeployment:  # fmt: skip
        return replace(self, canary=canary, traffic_pid=traffic_pid, traffic_identity=traffic_identity,
                       judged_by=judged_by if canary is not None else None)

    def canary_abandoned(self, run_in_progress: bool) -> bool:
        """Whether the canary_watchdog must roll the canary back: its run is over, or the process judging it is
        gone (a run killed with its process may read as in progress for a while). A canary that passed has no
        judge: it waits for its run's promotion, so only the run ending abandons it."""
        if self.canary is None:
            return False
        if not run_in_progress:
            return True
        return self.judged_by is not None and not identity_alive(self.judged_by)


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
        """The API's record; DeploymentRecordError (naming the file and the fix) when it cannot be read."""
        path = self._file(api)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return ApiDeployment(
                api, _release(data.get("stable")), _release(data.get("canary")), data.get("traffic_pid"),
                data.get("traffic_identity"), data.get("judged_by"),
            )  # fmt: skip
        except FileNotFoundError:
            return ApiDeployment(api)
        except (ValueError, TypeError, KeyError, AttributeError) as exc:  # not JSON, not an object, unknown fields
            raise DeploymentRecordError(f"{path} is damaged or of an unknown format ({type(exc).__name__}: {exc}); "
                                        "restore it from the platform state or delete it (the API then counts as "
                                        "never released)") from None  # fmt: skip

    def save(self, deployment: ApiDeployment) -> None:
        atomic_write(self._file(deployment.api), json.dumps(asdict(deployment), indent=2).encode("utf-8"))

    def apis(self) -> list[str]:
        return sorted(p.stem for p in self.root.glob("*.json")) if self.root.is_dir() else []

    def stable_releases(self) -> tuple[dict[str, DeployedRelease], list[str]]:
        """The stable release of every API in production, by API; and one problem ("<api>: <why>") per record
        that cannot be read: that API is left out, never every API."""
        releases, problems = {}, []
        for api in self.apis():
            try:
                stable = self.load(api).stable
            except (DeploymentRecordError, ValueError) as exc:  # ValueError: a file name that is no API name
                problems.append(f"{api}: {exc}")
                continue
            if stable is not None:
                releases[api] = stable
        return releases, problems

    def canaries(self, warn: Callable[[str], object] = _LOG.warning) -> list[ApiDeployment]:
        """Every API's record with a canary; a record that cannot be read is warned about and skipped."""
        found = []
        for api in self.apis():
            try:
                deployment = self.load(api)
            except (DeploymentRecordError, ValueError) as exc:
                warn(f"{api}: {exc}")
                continue
            if deployment.canary is not None:
                found.append(deployment)
        return found


class DeploymentRecordError(RuntimeError):
    pass


def _release(data: dict | None) -> DeployedRelease | None:
    if not data:
        return None
    if not isinstance(data, dict):
        raise TypeError(f"a release is a JSON object, not {type(data).__name__}")
    return DeployedRelease(**data)
