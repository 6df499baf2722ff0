"""Walk a production release back through its stages: the materializations its input event pointers name,
each with its run, time and check results, down to `api_spec` and the commit."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import dagster as dg

from apiops_pipelines.assets.records import PRODUCTION_DEPLOYMENT, check_evaluations
from apiops_pipelines.resources.notifier import run_url
from apiops_pipelines.settings import dagster_url

POINTER = "dagster/input_event_pointer/"
MAX_NODES = 64  # a chain is the lifecycle's ten stages; anything longer is not ours to walk
MAX_RELEASES = 1000  # production changes of one API read when looking one up by commit, or listing them


@dataclass(frozen=True)
class CheckOutcome:
    name: str
    passed: bool
    severity: str
    description: str


@dataclass
class StageRecord:
    asset: str
    storage_id: int
    run_id: str
    timestamp: float
    metadata: dict[str, Any]
    upstream: dict[str, int | None]  # upstream asset -> the storage id it was computed from (None: not recorded)
    checks: list[CheckOutcome] = field(default_factory=list)

    @property
    def run_url(self) -> str:
        return run_url(self.run_id)

    def event_url(self, api: str) -> str:
        return f"{dagster_url()}/assets/{self.asset}?partition={api}&time={int(self.timestamp * 1000)}"

    def as_dict(self, api: str) -> dict[str, Any]:
        return {"asset": self.asset, "storage_id": self.storage_id, "run_id": self.run_id,
                "time": self.timestamp, "run_url": self.run_url, "event_url": self.event_url(api),
                "upstream": self.upstream, "metadata": self.metadata,
                "checks": [c.__dict__ for c in self.checks]}  # fmt: skip


def stage_record(record: Any) -> StageRecord:
    materialization = record.asset_materialization
    tags = materialization.tags or {}
    upstream = {key[len(POINTER):]: (int(value) if value.isdigit() else None)
                for key, value in tags.items() if key.startswith(POINTER)}  # fmt: skip
    metadata = {key: _plain(value) for key, value in materialization.metadata.items()}
    return StageRecord(materialization.asset_key.to_user_string(), record.storage_id, record.run_id,
                       record.timestamp, metadata, upstream)  # fmt: skip


def _plain(value: Any) -> Any:
    inner = getattr(value, "value", value)
    return inner if isinstance(inner, (str, int, float, bool, type(None), dict, list)) else str(inner)


def production_releases(instance: dg.DagsterInstance, api: str, limit: int = MAX_RELEASES) -> list[StageRecord]:
    """Every `production_deployment` materialization of the API (releases and rollbacks), newest first."""
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=PRODUCTION_DEPLOYMENT, asset_partitions=[api]), limit=limit
    ).records  # fmt: skip
    return [stage_record(r) for r in records]


def record_by_id(instance: dg.DagsterInstance, asset: str, storage_id: int, api: str) -> StageRecord | None:
    found = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=dg.AssetKey(asset), asset_partitions=[api], storage_ids=[storage_id]), limit=1
    ).records  # fmt: skip
    return stage_record(found[0]) if found else None


def walk(instance: dg.DagsterInstance, start: StageRecord, api: str) -> list[StageRecord]:
    """`start` and every materialization its pointers lead to, each once, nearest first; with their checks."""
    chain, seen, queue = [], set(), [start]
    while queue and len(chain) < MAX_NODES:
        node = queue.pop(0)
        if node.storage_id in seen:
            continue
        seen.add(node.storage_id)
        chain.append(node)
        for asset, storage_id in sorted(node.upstream.items()):
            if storage_id is not None and storage_id not in seen:
                found = record_by_id(instance, asset, storage_id, api)
                if found is not None:
                    queue.append(found)
    checks = _checks_of_runs(instance, {node.run_id for node in chain})
    for node in chain:
        node.checks = checks.get((node.run_id, node.asset), [])
    return chain


def _checks_of_runs(instance: dg.DagsterInstance, run_ids: set[str]) -> dict[tuple[str, str], list[CheckOutcome]]:
    found: dict[tuple[str, str], list[CheckOutcome]] = {}
    for run_id in run_ids:
        for data in check_evaluations(instance, run_id):
            outcome = CheckOutcome(data.check_name, data.passed, data.severity.value, data.description or "")
            found.setdefault((run_id, data.asset_key.to_user_string()), []).append(outcome)
    return found


def release_of(instance: dg.DagsterInstance, api: str, commit: str | None) -> StageRecord | None:
    """The newest production release of the API, or the newest one of `commit` (a prefix of 7+ characters)."""
    for release in production_releases(instance, api, limit=1 if commit is None else MAX_RELEASES):
        if commit is None or str(release.metadata.get("commit", "")).startswith(commit):
            return release
    return None


def origin_of_rollback(instance: dg.DagsterInstance, api: str, rollback: StageRecord) -> StageRecord | None:
    """A rollback has no upstream of its own: the release that first brought its commit to production does."""
    commit = rollback.metadata.get("commit")
    for release in production_releases(instance, api):
        if release.metadata.get("kind") != "rollback" and release.metadata.get("commit") == commit:
            return release
    return None
