"""`production_monitor`: production's traffic as observations on `production_deployment`, one per API partition
and window (engine: monitor/). Each tick reads only the access-log lines written since the last one (the log
position is the sensor's cursor), so its cost follows the traffic, never the log's size; a first tick starts at
the log's end. Every tick with traffic also records the `production_within_slo` check: each API's window against
its SLO, production failing while any API is in breach."""

import time
from dataclasses import replace

import dagster as dg

from apiops_pipelines.assets.production_monitoring import (Judged, access_log, check_evaluation, judge_windows,
                                                           matcher_for, monitor_interval, observation,
                                                           production_releases)  # fmt: skip
from apiops_pipelines.assets.records import PRODUCTION_DEPLOYMENT
from apiops_pipelines.monitor.breaches import breach_event, breaches_begun
from apiops_pipelines.monitor.tick import monitor_tick
from apiops_pipelines.notify import Event
from apiops_pipelines.resources.artifacts import ArtifactStoreResource
from apiops_pipelines.resources.notifier import notifier_for
from apiops_pipelines.resources.platform import PlatformResource
from apiops_pipelines.resources.repository import RepositoryResource
from apiops_pipelines.settings import dagster_url

# Breach notices stop starting after this, so a tick with many APIs in breach and a slow webhook still ends
# (and saves its cursor and breaching set) well within Dagster's 60 s: one started may take its deadline more.
NOTIFY_BUDGET_S = 15.0


@dg.sensor(
    name="production_monitor",
    minimum_interval_seconds=monitor_interval(),
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Reads the gateway's access log since the last tick and records, per API in production with "
    "traffic, an observation on production_deployment (requests/s, error rates, p50/p95/p99, a per-operation "
    "table), and the production_within_slo check of every API's window against its SLO.",
)
def production_monitor(
    context: dg.SensorEvaluationContext, platform: PlatformResource, repository: RepositoryResource,
    artifacts: ArtifactStoreResource,
) -> dg.SensorResult:  # fmt: skip
    releases = production_releases(platform, context.log.warning)
    operation_of = {api: matcher_for(artifacts, api, release).operation for api, release in releases.items()}
    tick = monitor_tick(access_log(platform), context.cursor, operation_of, time.time())
    if tick.started:
        why = "the stored cursor was unreadable" if context.cursor else "first tick"
        return dg.SensorResult(cursor=tick.cursor.as_text(), skip_reason=f"{why}: reading the access log from its "
                               f"end on ({len(releases)} API(s) in production)")  # fmt: skip
    if tick.backlog:
        context.log.warning(f"the access log holds more new lines than one tick reads ({tick.records} records read); "
                            "the rest follows in the next ticks")  # fmt: skip
    judged = judge_windows(repository, tick.windows, releases)
    verdicts = {j.window.api: j.verdict for j in judged}
    breaching, begun = breaches_begun((api for api in tick.cursor.breaching if api in releases), verdicts)
    events: list = [observation(j.window, j.release, j.verdict) for j in judged]
    if judged:
        events.append(check_evaluation(judged, breaching))
    link = f"{dagster_url()}/assets/{PRODUCTION_DEPLOYMENT.to_user_string()}?view=checks"
    notify_slo_breaches(context, [breach_event(j.window, j.verdict, j.release.commit, link)
                                  for j in judged if j.window.api in begun], repository)  # fmt: skip
    return dg.SensorResult(asset_events=events, cursor=replace(tick.cursor, breaching=breaching).as_text(),
                           skip_reason=_summary(judged, len(releases)))  # fmt: skip


def notify_slo_breaches(context: dg.SensorEvaluationContext, events: list[Event],
                        repository: RepositoryResource) -> None:  # fmt: skip
    """One `slo_breach` event per API that entered a breach in this window (an API staying in breach does not
    repeat it; see monitor/breaches.py), logged and posted to APIOPS_NOTIFY_URL (never raises). A notice not
    posted (the webhooks failed, or the tick's time for them ran out) is logged, not tried again: the breach
    stays recorded in the cursor, so a later tick does not see it begin again."""
    for event in events:
        context.log.warning(f"{event.title}: {event.summary}")
    notifier = notifier_for(repository)
    if not events or not notifier.enabled():
        return
    outcome = notifier.notify_all(events, NOTIFY_BUDGET_S)
    for why, missed in (("a webhook failed", outcome.dropped), ("out of time", outcome.unsent)):
        if missed:
            context.log.warning(f"{len(missed)} breach notice(s) not posted ({why}): "
                                + ", ".join(event.api for event in missed))  # fmt: skip


def _summary(judged: list[Judged], in_production: int) -> str:
    if not judged:
        return f"no production traffic since the last tick ({in_production} API(s) in production)"
    parts = [f"{j.window.api}: {j.window.total.requests} request(s), {j.verdict.decision}" for j in judged]
    return f"observed {len(judged)} API(s) over {judged[0].window.window_s:.0f} s: " + "; ".join(parts)
