import dagster as dg

from apiops_pipelines.platform import PlatformError
from apiops_pipelines.resources.platform import PlatformResource


@dg.sensor(
    name="staging_teardown",
    minimum_interval_seconds=15,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Stops the staging instances of every run that has ended (success, failure or cancel).",
)
def staging_teardown(context: dg.SensorEvaluationContext, platform: PlatformResource) -> dg.SkipReason:
    registry, local = platform.staging(), platform.platform()
    stopped, waiting = [], 0
    for run_id in registry.run_ids():
        run = context.instance.get_run_by_id(run_id)
        if run is not None and not run.is_finished:
            waiting += 1
            continue
        left = []
        for instance in registry.instances(run_id):
            if instance.program is None or instance.program not in local.store.load().programs:
                continue  # an upstream, or already gone
            try:
                local.stop_service(instance.program)
                stopped.append(f"{instance.api}@{instance.commit[:12]} ({instance.program})")
            except PlatformError as exc:  # kept, and tried again next tick
                context.log.warning(f"could not stop {instance.program} of run {run_id}: {exc}")
                left.append(instance)
        if not left:
            registry.forget(run_id)
    if stopped:
        context.log.info("stopped staging instances: " + ", ".join(stopped))
    return dg.SkipReason(f"stopped {len(stopped)} staging instance(s); {waiting} run(s) still in progress")
