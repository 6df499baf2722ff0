"""Failed checks that left their run green: a WARN-severity or non-blocking check (load against a baseline, a
consumer-less contract stage, tonight's regression) fails without failing the run, so Dagster's run failure
sensors never see it. This sensor reads the check evaluations of each run that succeeded since its cursor.

The cursor is the storage id of the last run-success event handled: each successful run is looked at once,
in order, however the ticks fall. A first tick starts at the newest one, so turning the sensor on does not
replay the instance's history; with notifications off, the cursor follows along without reading anything.
"""

import time

import dagster as dg

from apiops_pipelines.notify import Event, check_failed, nightly_check_failed
from apiops_pipelines.resources.notifier import NotifierResource, run_url
from apiops_pipelines.sensors.run_facts import COMMIT_TAG, NIGHTLY_JOB, check_evaluations, run_api

MAX_RUNS_PER_TICK = 25
MAX_NOTICES_PER_RUN = 10  # a run with more failed checks gets the first ones and a count in the log
TICK_BUDGET_S = 30.0  # no new run after this: a tick is cut off at 60 s, and one notice may take its deadline


def _latest_success(instance: dg.DagsterInstance) -> int:
    records = instance.fetch_run_status_changes(dg.DagsterEventType.RUN_SUCCESS, limit=1, ascending=False).records
    return records[0].storage_id if records else 0


def check_notices(instance: dg.DagsterInstance, run: dg.DagsterRun) -> list[Event]:
    """One event per check that failed in `run`, its last evaluation when a check ran more than once."""
    last: dict[tuple, dg.AssetCheckEvaluation] = {}
    for evaluation in check_evaluations(instance, run.run_id):
        last[(evaluation.asset_key, evaluation.check_name, evaluation.partition)] = evaluation
    events, link, commit = [], run_url(run.run_id), run.tags.get(COMMIT_TAG, "")
    for evaluation in last.values():
        if evaluation.passed:
            continue
        api = run_api(run) or evaluation.partition or ""
        asset, message = evaluation.asset_key.to_user_string(), evaluation.description or ""
        if run.job_name == NIGHTLY_JOB:
            events.append(nightly_check_failed(api, commit, evaluation.check_name, message, run_url=link))
        else:
            events.append(check_failed(api, commit, asset, evaluation.check_name, message,
                                       severity=evaluation.severity.value, run_url=link, job=run.job_name,
                                       run_id=run.run_id))  # fmt: skip
    return events


@dg.sensor(
    name="notify_check_failures",
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Posts checks that failed in runs that still succeeded (non-blocking or WARN) to the webhooks "
    "of APIOPS_NOTIFY_URL.",
)
def notify_check_failures(context: dg.SensorEvaluationContext, notifier: NotifierResource) -> dg.SkipReason:
    instance = context.instance
    if not (context.cursor or "").isdigit() or not notifier.enabled():
        context.update_cursor(str(_latest_success(instance)))
        return dg.SkipReason("notifications off (APIOPS_NOTIFY_URL)" if not notifier.enabled()
                             else "watching runs that succeed from now on")  # fmt: skip
    after, started, sent, runs, dropped = int(context.cursor), time.monotonic(), 0, 0, []
    records = instance.fetch_run_status_changes(
        dg.RunStatusChangeRecordsFilter(dg.DagsterEventType.RUN_SUCCESS, after_storage_id=after),
        limit=MAX_RUNS_PER_TICK, ascending=True,
    ).records  # fmt: skip
    for record in records:
        if time.monotonic() - started > TICK_BUDGET_S:
            break  # the rest next tick: the cursor stops at the last run handled
        run = instance.get_run_by_id(record.run_id)
        notices = check_notices(instance, run) if run is not None else []
        if len(notices) > MAX_NOTICES_PER_RUN:
            context.log.warning(f"run {record.run_id}: {len(notices)} failed checks, notifying the first "
                                f"{MAX_NOTICES_PER_RUN}")  # fmt: skip
        for event in notices[:MAX_NOTICES_PER_RUN]:
            # Once the webhooks failed this tick (each notice already had its retries), the rest are logged
            # here rather than each costing the delivery deadline: a webhook that is down neither holds the
            # cursor back nor runs the tick out of time.
            if dropped or not notifier.notify(event):
                dropped.append(event.title)
            else:
                sent += 1
        after, runs = record.storage_id, runs + 1
    context.update_cursor(str(after))
    if dropped:
        context.log.warning(f"not delivered ({len(dropped)}): " + "; ".join(dropped[:20]))
    return dg.SkipReason(f"{runs} successful run(s) read, {sent} failed check(s) notified, {len(dropped)} not")
