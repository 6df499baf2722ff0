"""Which nightly runs a schedule tick asks for: one per API that production serves, one per API and day.

What production serves is the deployment registry's stable release (`$APIOPS_HOME/deployments/<api>.json`):
after a rollback that is the release put back, which is what the nightly must verify. An API without a stable
release (never promoted, or only a canary so far) gets no run.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from apiops_pipelines.delivery.deployments import DeployedRelease, DeploymentRegistry


@dataclass(frozen=True)
class NightlyRun:
    api: str
    release: DeployedRelease
    run_key: str  # "<api>:<YYYY-MM-DD>": a second tick on the same day asks for the same key


def nightly_day(scheduled: datetime) -> str:
    """The UTC date of a tick: the day a nightly run belongs to, whatever the schedule's timezone."""
    moment = scheduled if scheduled.tzinfo else scheduled.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).date().isoformat()


def run_key(api: str, day: str) -> str:
    return f"{api}:{day}"


def production_runs(registry: DeploymentRegistry, day: str) -> tuple[list[NightlyRun], list[str]]:
    """One run per API with a stable production release, by name; and a problem per unreadable record (that
    API is skipped and named, never the whole tick)."""
    releases, problems = registry.stable_releases()
    return [NightlyRun(api, stable, run_key(api, day)) for api, stable in releases.items()], problems
