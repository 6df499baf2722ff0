"""Tells the webhooks which stage of which run failed, why, and where to look."""

import dagster as dg

from apiops_pipelines.assets.records import check_evaluations
from apiops_pipelines.assets.run_commit import COMMIT_TAG
from apiops_pipelines.jobs.nightly import NIGHTLY_JOB
from apiops_pipelines.notify import Event, nightly_check_failed, run_failed
from apiops_pipelines.resources.notifier import NotifierResource, run_url
from apiops_pipelines.sensors.run_facts import describe_check, run_api, step_failure_message

# By name rather than by definition: runs of other jobs (ad hoc materializations) stay quiet.
NOTIFIED_JOBS = frozenset({"release", "verify", "rollback", NIGHTLY_JOB})


def failure_event(context: dg.RunFailureSensorContext) -> Event:
    run = context.dagster_run
    api, commit, link = run_api(run), run.tags.get(COMMIT_TAG, ""), run_url(run.run_id)
    failed = [e for e in check_evaluations(context.instance, run.run_id) if not e.passed]
    if run.job_name == NIGHTLY_JOB and failed:  # the nightly's verdict is its checks: say which, not "run failed"
        names = ", ".join(e.check_name for e in failed)
        return nightly_check_failed(api, commit, names, "; ".join(describe_check(e) for e in failed), link)
    failures = context.get_step_failure_events()
    failed_checks = [describe_check(e) for e in failed]
    if failures:
        step, message = failures[0].step_key or "", step_failure_message(failures[0], failed_checks)
    else:  # the run failed around its steps (launch, run worker, cancellation): Dagster's message is all there is
        step, message = "", context.failure_event.message or ""
    return run_failed(run.job_name, run.run_id, api=api, commit=commit, step=step, message=message, run_url=link,
                      failed_steps=[f.step_key or "" for f in failures], failed_checks=failed_checks)  # fmt: skip


@dg.run_failure_sensor(
    name="notify_run_failure",
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Posts a failed release, verify, rollback or nightly run (stage, message, UI link) to the "
    "webhooks of APIOPS_NOTIFY_URL.",
)
def notify_run_failure(context: dg.RunFailureSensorContext, notifier: NotifierResource) -> None:
    run = context.dagster_run
    if run.job_name not in NOTIFIED_JOBS or not notifier.enabled():
        return
    try:
        event = failure_event(context)
    except Exception as exc:  # noqa: BLE001 - reading the run's events failed: still say that it failed
        context.log.warning(f"run {run.run_id}: details unavailable for the notification ({type(exc).__name__})")
        event = run_failed(run.job_name, run.run_id, api=run_api(run), commit=run.tags.get(COMMIT_TAG, ""),
                           message=context.failure_event.message or "", run_url=run_url(run.run_id))  # fmt: skip
    notifier.notify(event)  # logs and returns when a webhook fails: the tick stays green
