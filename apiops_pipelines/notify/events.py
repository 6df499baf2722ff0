"""What the estate tells people about: one `Event` per happening, built by a typed constructor.

The constructors are the only place an event's wording is decided, so the failure sensor, the delivery stages
and the nightly and monitoring code say the same thing the same way. Webhook receivers key on `kind`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

Severity = Literal["error", "warning", "info"]
SHORT_SHA = 12


@dataclass(frozen=True)
class Event:
    kind: str  # run_failed, check_failed, canary_rolled_back, promoted_to_production, production_rolled_back,
    #            nightly_check_failed, slo_breach
    severity: Severity
    title: str  # one line, says what happened to which API
    summary: str = ""  # the message: why, in the words of the stage that decided
    api: str = ""
    commit: str = ""
    url: str = ""  # where to look first (the run in the Dagster UI, a report)
    links: Mapping[str, str] = field(default_factory=dict)  # label -> URL
    details: Mapping[str, str] = field(default_factory=dict)  # label -> value, shown in order
    time: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))


def _short(commit: str) -> str:
    return commit[:SHORT_SHA]


def _about(api: str, commit: str) -> str:
    if api and commit:
        return f"{api}@{_short(commit)}"
    return api or (_short(commit) if commit else "")


def _present(**values: str) -> dict[str, str]:
    return {key: value for key, value in values.items() if value}


def run_failed(job: str, run_id: str, *, api: str = "", commit: str = "", step: str = "", message: str = "",
               run_url: str = "", failed_steps: Sequence[str] = (), failed_checks: Sequence[str] = ()
               ) -> Event:  # fmt: skip
    """A run of `job` ended in failure; `step` is the stage (step key) that failed first."""
    where = f" at {step}" if step else ""
    details = _present(job=job, run_id=run_id, stage=step, failed_stages=", ".join(failed_steps),
                       failed_checks="; ".join(failed_checks))  # fmt: skip
    return Event("run_failed", "error", f"{_about(api, commit) or job}: {job} run failed{where}",
                 message, api, commit, run_url, _present(run=run_url), details)  # fmt: skip


def check_failed(api: str, commit: str, asset: str, check: str, message: str = "", *, severity: str = "WARN",
                 run_url: str = "", job: str = "", run_id: str = "") -> Event:  # fmt: skip
    """A check failed in a run that still succeeded (a non-blocking or WARN-severity check): the run stays
    green, so without this nobody would hear of it."""
    details = _present(asset=asset, check=check, severity=severity, job=job, run_id=run_id)
    return Event("check_failed", "warning", f"{_about(api, commit) or asset}: check {check} on {asset} failed",
                 message, api, commit, run_url, _present(run=run_url), details)  # fmt: skip


def canary_rolled_back(api: str, commit: str, reason: str, report_url: str = "", run_url: str = "") -> Event:
    """The canary of `commit` lost its judgement (or its run ended) and production is back on the stable."""
    return Event("canary_rolled_back", "error", f"{_about(api, commit)}: canary rolled back", reason, api, commit,
                 report_url or run_url, _present(report=report_url, run=run_url))  # fmt: skip


def promoted_to_production(api: str, commit: str, spec_version: str = "", replaced: str = "",
                           run_url: str = "") -> Event:  # fmt: skip
    """`commit` now serves all of the API's production traffic; `replaced` is the release it took over from."""
    summary = f"{api} {spec_version} serves production" if spec_version else f"{api} serves production"
    if replaced:
        summary += f", replacing {_short(replaced)}"
    return Event("promoted_to_production", "info", f"{_about(api, commit)}: promoted to production", summary,
                 api, commit, run_url, _present(run=run_url),
                 _present(spec_version=spec_version, replaced=replaced))  # fmt: skip


def production_rolled_back(api: str, commit: str, reason: str, replaced: str = "", spec_version: str = "",
                           requested_by: str = "", run_url: str = "") -> Event:  # fmt: skip
    """Someone put an earlier release (`commit`) back into production with the rollback job."""
    return Event("production_rolled_back", "warning", f"{_about(api, commit)}: production rolled back", reason, api,
                 commit, run_url, _present(run=run_url),
                 _present(spec_version=spec_version, replaced=replaced, requested_by=requested_by))  # fmt: skip


def nightly_check_failed(api: str, commit: str, check: str, message: str, run_url: str = "") -> Event:
    """Last night's re-verification of the production release of `api` failed `check`."""
    return Event("nightly_check_failed", "error", f"{_about(api, commit)}: nightly check {check} failed", message,
                 api, commit, run_url, _present(run=run_url), _present(check=check))  # fmt: skip


def slo_breach(api: str, commit: str, breaches: Sequence[str] | str, window: str = "", url: str = "") -> Event:
    """Production traffic of `api` missed its SLO; `breaches` are the objectives missed, each in words
    (`p95 412 ms > 250 ms`)."""
    missed = [breaches] if isinstance(breaches, str) else list(breaches)
    return Event("slo_breach", "error", f"{_about(api, commit)}: production outside its SLO", "; ".join(missed),
                 api, commit, url, _present(observations=url), _present(window=window))  # fmt: skip
