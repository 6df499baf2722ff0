"""Failed checks that left their run green: a WARN-severity or non-blocking check (load against a baseline, a
consumer-less contract stage, tonight's regression) fails without failing the run, so Dagster's run failure
sensors never see it. This sensor reads the check evaluations of each run that succeeded since its cursor.

The cursor is the storage id of the last run-success event handled: each successful run is looked at once,
in order, however the ticks fall. A first tick starts at the newest one, so turning the sensor on does not
replay the instance's history; with notifications off, the cursor follows along without reading anything.
Once a delivery fails (after its retries) the tick's remaining notices are logged rather than each costing the
delivery deadline: a webhook that is down neither holds the cursor back nor runs the tick out of time. A run
none of whose notices was tried before the tick's time ran out waits for the next tick.
"""

import time

import dagster as dg

from apiops_pipelines.assets.records import check_evaluations
from apiops_pipelines.assets.run_commit import COMMIT_TAG
from apiops_pipelines.jobs.nightly import NIGHTLY_JOB
from apiops_pipelines.notify import Event, check_failed, nightly_check_failed
from apiops_pipelines.resources.notifier import NotifierResource, run_url
from apiops_pipelines.sensors.run_facts import run_api

MAX_RUNS_PER_TICK = 25
MAX_NOTICES_PER_RUN = 10  # a run with more failed checks gets the first ones and a count in the log
TICK_BUDGET_S = 30.0  # no new notice after this: a tick is cut off at 60 s, and one notice may take its deadline


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
    after, started = int(context.cursor), time.monotonic()
    records = instance.fetch_run_status_changes(
        dg.RunStatusChangeRecordsFilter(dg.DagsterEventType.RUN_SUCCESS, after_storage_id=after),
        limit=MAX_RUNS_PER_TICK, ascending=True,
    ).records  # fmt: skip
    events: list[Event] = []
    spans: list[tuple[int, int, int]] = []  # per run: its storage id, and where its notices start and end
    for record in records:
        run = instance.get_run_by_id(record.run_id)
        notices = check_notices(instance, run) if run is not None else []
        if len(notices) > MAX_NOTICES_PER_RUN:
            context.log.warning(f"run {record.run_id}: {len(notices)} failed checks, notifying the first "
                                f"{MAX_NOTICES_PER_RUN}")  # fmt: skip
        spans.append((record.storage_id, len(events), len(events) + min(len(notices), MAX_NOTICES_PER_RUN)))
        events.extend(notices[:MAX_NOTICES_PER_RUN])
    outcome = notifier.notify_all(events, TICK_BUDGET_S - (time.monotonic() - started))
    tried, runs, handled = len(outcome.sent) + len(outcome.dropped), 0, 0
    for storage_id, start, end in spans:
        if start >= tried and end > tried:
            break  # no notice of this run tried yet: it and the rest next tick
        # A run begun is done, even if the time ran out within it: sending its first notices again every
        # tick would repeat them and never get past it.
        after, runs, handled = storage_id, runs + 1, end
    context.update_cursor(str(after))
    lost = [e.title for e in outcome.dropped] + [e.title for e in outcome.unsent[: max(0, handled - tried)]]
    if lost:
        context.log.warning(f"not delivered ({len(lost)}): " + "; ".join(lost[:20]))
    return dg.SkipReason(f"{runs} successful run(s) read, {len(outcome.sent)} failed check(s) notified, "
                         f"{len(lost)} not")  # fmt: skip
