"""What the notification sensors read about a finished run: its API, the message of a failed step, and how to
name a check evaluation (the evaluations themselves: assets/records.py)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import dagster as dg

from apiops_pipelines.assets.run_commit import API_TAG


def run_api(run: dg.DagsterRun) -> str:
    """The run's API: its tag, else (a rollback launched from the launchpad) the `api` of its op config."""
    if run.tags.get(API_TAG):
        return run.tags[API_TAG]
    for op in (run.run_config or {}).get("ops", {}).values():
        config = op.get("config") if isinstance(op, Mapping) else None
        if isinstance(config, Mapping) and isinstance(config.get("api"), str):
            return config["api"]
    return ""


def innermost(error: Any) -> Any:
    """The innermost cause of a step's error: Dagster wraps user code's exception in its own, whose message
    only says that the step failed."""
    while getattr(error, "cause", None) is not None:
        error = error.cause
    return error


def step_failure_message(event: dg.DagsterEvent, failed_checks: Sequence[str] = ()) -> str:
    """What went wrong in a failed step, in the words of the code that decided."""
    data = event.event_specific_data
    user = getattr(data, "user_failure_data", None)  # a dg.Failure: its description is the message meant for us
    if user is not None and getattr(user, "description", None):
        return user.description
    error = innermost(getattr(data, "error", None))
    if getattr(error, "cls_name", "") == "DagsterAssetCheckFailedError" and failed_checks:
        # Dagster's own text only names the blocking check; its description says why it failed.
        return "failed check(s): " + "; ".join(failed_checks)
    return (getattr(error, "message", "") or event.message or "").strip()


def describe_check(evaluation: dg.AssetCheckEvaluation) -> str:
    name = f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}"
    return f"{name} ({evaluation.description})" if evaluation.description else name
