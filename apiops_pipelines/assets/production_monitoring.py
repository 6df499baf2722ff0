"""What the production_monitor sensor and the production_within_slo check share (engine: monitor/): the spec
operations of a production release, its SLO, a window's numbers as Dagster metadata, and the check's verdict.

Numbers are Int and Float metadata so the UI plots them over time (the asset's Plots tab, per API partition).
The SLO and the operation matcher belong to a commit and a spec hash, which never change: each is read once
per process, not once per tick."""

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import dagster as dg

from apiops_pipelines.assets.records import PRODUCTION_DEPLOYMENT
from apiops_pipelines.delivery.deployments import DeployedRelease
from apiops_pipelines.delivery.operation_matcher import OperationMatcher
from apiops_pipelines.estate.api_config import SloConfig
from apiops_pipelines.estate.git import GitError
from apiops_pipelines.estate.repo_source import redact
from apiops_pipelines.monitor.breaches import production_verdict
from apiops_pipelines.monitor.markdown import operations_table, verdicts_table
from apiops_pipelines.monitor.per_commit import PerCommit
from apiops_pipelines.monitor.slo import SloUnavailable, SloVerdict, judge, production_slo
from apiops_pipelines.monitor.window import ApiWindow
from apiops_pipelines.platform import Platform
from apiops_pipelines.resources.artifacts import ArtifactStoreResource
from apiops_pipelines.resources.platform import PlatformResource
from apiops_pipelines.resources.repository import RepositoryResource
from apiops_pipelines.settings import env_int

MONITOR_INTERVAL_ENV = "APIOPS_MONITOR_INTERVAL"  # seconds between ticks, and the window a check on demand judges
DEFAULT_MONITOR_INTERVAL = 60
PRODUCTION_WITHIN_SLO = "production_within_slo"

_MATCHERS: PerCommit[OperationMatcher] = PerCommit(64)
_SLOS: PerCommit[SloConfig] = PerCommit()


def monitor_interval() -> int:
    return env_int(MONITOR_INTERVAL_ENV, DEFAULT_MONITOR_INTERVAL)


def access_log(platform: PlatformResource) -> Path:
    # A bare Platform: the resource's platform() also records its frontend and stats settings, a write that a
    # reader of the log has no business doing every minute.
    return Platform(platform.home_path() / "platform").access_log


def production_releases(platform: PlatformResource, warn: Callable[[str], object]) -> dict[str, DeployedRelease]:
    """The stable release of every API in production (a damaged record is reported and left out)."""
    releases, problems = platform.deployments().stable_releases()
    for problem in problems:
        warn(problem)
    return releases


def matcher_for(artifacts: ArtifactStoreResource, api: str, release: DeployedRelease) -> OperationMatcher:
    """The operations of the spec in production (the bundle the release ledger keeps by hash)."""
    def load() -> OperationMatcher:
        path = artifacts.ledger().spec_file(api, release.spec_sha256)
        return OperationMatcher(json.loads(path.read_text(encoding="utf-8")), prefix=f"/{api}")

    try:
        return _MATCHERS.get((str(artifacts.root()), api, release.spec_sha256), load)
    except (OSError, ValueError):  # not in the ledger yet (a promotion records it just after the switch)
        return OperationMatcher({}, prefix=f"/{api}")  # every request "unmatched" until then; not remembered


def slo_verdict(repository: RepositoryResource, api: str, release: DeployedRelease, window: ApiWindow) -> SloVerdict:
    """The window judged against `load.slo` of the API's apiops.yaml at the production commit."""
    def load() -> SloConfig:
        watched = repository.watched()
        with watched.repo:
            return production_slo(watched.repo, release.commit, api)

    try:
        slo = _SLOS.get((repository.location, api, release.commit), load)
    except (SloUnavailable, GitError) as exc:
        return judge(window, None, redact(str(exc)))
    return judge(window, slo)


def window_metadata(window: ApiWindow, release: DeployedRelease) -> dict[str, dg.MetadataValue]:
    total = window.total
    metadata = {
        "requests": dg.MetadataValue.int(total.requests),
        "requests_per_s": dg.MetadataValue.float(round(window.requests_per_s, 3)),
        "error_rate": dg.MetadataValue.float(total.error_rate),
        "client_error_rate": dg.MetadataValue.float(total.client_error_rate),
        "server_errors": dg.MetadataValue.int(total.server_errors),
        "client_errors": dg.MetadataValue.int(total.client_errors),
    }
    for label, value in (("p50_ms", total.p50_ms), ("p95_ms", total.p95_ms), ("p99_ms", total.p99_ms)):
        if value is not None:  # no request of the window got a response: no latency to plot
            metadata[label] = dg.MetadataValue.float(value)
    return {
        **metadata,
        "window_s": dg.MetadataValue.float(round(window.window_s, 3)),
        "window_start": dg.MetadataValue.timestamp(window.start),
        "window_end": dg.MetadataValue.timestamp(window.end),
        "commit": dg.MetadataValue.text(release.commit),
        "spec_version": dg.MetadataValue.text(release.spec_version),
        "spec_sha256": dg.MetadataValue.text(release.spec_sha256),
        "servers": dg.MetadataValue.text(", ".join(f"{name}: {n}" for name, n in window.servers.items())),
    }


def observation(window: ApiWindow, release: DeployedRelease, verdict: SloVerdict) -> dg.AssetObservation:
    return dg.AssetObservation(
        asset_key=PRODUCTION_DEPLOYMENT, partition=window.api, description=verdict.summary,
        metadata={**window_metadata(window, release), "operations": dg.MetadataValue.md(operations_table(window)),
                  "slo": dg.MetadataValue.text(verdict.decision)},
    )  # fmt: skip


@dataclass(frozen=True)
class Judged:
    window: ApiWindow
    release: DeployedRelease
    verdict: SloVerdict


def judge_windows(repository: RepositoryResource, windows: list[ApiWindow],
                  releases: dict[str, DeployedRelease]) -> list[Judged]:  # fmt: skip
    return [Judged(w, releases[w.api], slo_verdict(repository, w.api, releases[w.api], w)) for w in windows]


def check_fields(judged: list[Judged], breaching: tuple[str, ...] = ()) -> dict:
    """passed, severity, description and metadata of `production_within_slo`, as an evaluation and a check result
    both take them: production as a whole (see monitor/breaches.py). An SLO that cannot be read is a warning;
    an API with too few requests passes and says so in the table."""
    verdict = production_verdict({j.window.api: j.verdict for j in judged}, breaching)
    rows = [(j.window, j.verdict, f"{j.release.spec_version} @ {j.release.commit[:12]}") for j in judged]
    return {
        "passed": verdict.passed,
        "severity": dg.AssetCheckSeverity.WARN if verdict.unknown else dg.AssetCheckSeverity.ERROR,
        "description": verdict.description,
        "metadata": {
            "apis_judged": dg.MetadataValue.int(len(judged)),
            "apis_in_breach": dg.MetadataValue.int(len(verdict.in_breach)),
            "in_breach": dg.MetadataValue.text(", ".join(verdict.in_breach) or "none"),
            "verdicts": dg.MetadataValue.md(verdicts_table(rows)),
        },
    }


def check_evaluation(judged: list[Judged], breaching: tuple[str, ...]) -> dg.AssetCheckEvaluation:
    return dg.AssetCheckEvaluation(asset_key=PRODUCTION_DEPLOYMENT, check_name=PRODUCTION_WITHIN_SLO,
                                   **check_fields(judged, breaching))  # fmt: skip
