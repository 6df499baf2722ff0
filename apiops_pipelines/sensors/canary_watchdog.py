"""Rolls back any canary whose run is no longer in progress (killed, crashed, cancelled): its traffic stopped,
weight 0, drained, removed, its instance stopped. Nothing depends on a release run staying alive."""

import dagster as dg

from apiops_pipelines.notify import canary_rolled_back
from apiops_pipelines.platform import PlatformError
from apiops_pipelines.resources.notifier import NotifierResource, run_url
from apiops_pipelines.resources.platform import PlatformResource


@dg.sensor(
    name="canary_watchdog",
    minimum_interval_seconds=15,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Rolls back a canary whose release run has ended without promoting or rolling it back.",
)
def canary_watchdog(context: dg.SensorEvaluationContext, platform: PlatformResource,
                    notifier: NotifierResource) -> dg.SkipReason:
    registry = platform.deployments()
    judged, rolled_back = 0, []
    for deployment in registry.canaries(context.log.warning):  # a damaged record is named and skipped
        canary = deployment.canary
        run = context.instance.get_run_by_id(canary.run_id) if canary.run_id else None
        # A run killed with its process may still read STARTED until run monitoring notices: the process that
        # judges the canary being gone is enough. A canary that passed waits for its run's promotion step.
        if not deployment.canary_abandoned(run is not None and not run.is_finished):
            judged += 1
            continue
        try:
            platform.production().abort_canary(deployment.api)
        except PlatformError as exc:  # tried again next tick
            context.log.warning(f"could not roll back the canary of {deployment.api}: {exc}")
            continue
        status = run.status.value if run is not None else "unknown run"
        if run is not None and not run.is_finished:
            status = f"{status}, its process gone"
        ended = "after the canary passed, without promoting it" if deployment.judged_by is None else "without a verdict"
        notifier.notify(canary_rolled_back(
            deployment.api, canary.commit, f"its release run {canary.run_id[:8]} ended {ended} ({status}); "
            "the canary was rolled back by canary_watchdog", run_url=run_url(canary.run_id)))  # fmt: skip
        rolled_back.append(f"{deployment.api} ({canary.server}, run {canary.run_id[:8]} {status})")
    if rolled_back:
        context.log.warning("rolled back the canaries of ended runs: " + ", ".join(rolled_back))
    return dg.SkipReason(f"{judged} canary(ies) being judged; rolled back {len(rolled_back)}")
