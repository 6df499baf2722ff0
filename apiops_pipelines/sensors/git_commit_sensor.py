import dagster as dg

from apiops_pipelines.assets.api_spec import api_spec
from apiops_pipelines.assets.partitions import api_partitions
from apiops_pipelines.estate.commit_scan import plan_tick
from apiops_pipelines.estate.index import IndexStore
from apiops_pipelines.estate.git import GitError
from apiops_pipelines.jobs.release import release_job
from apiops_pipelines.estate.repo_source import redact
from apiops_pipelines.resources.repository import RepositoryResource
from apiops_pipelines.settings import SENSOR_INTERVAL_ENV, env_int


@dg.sensor(
    name="git_commit_sensor",
    job=release_job,
    minimum_interval_seconds=env_int(SENSOR_INTERVAL_ENV, 30),
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Starts one release run per API touched by new commits on the tracked branch.",
)
def git_commit_sensor(context: dg.SensorEvaluationContext, repository: RepositoryResource) -> dg.SensorResult:
    try:
        watched = repository.watched()
        # Dagster gives a tick 60 s: a first clone that takes longer goes on in the background.
        if not watched.refresh(wait=False, timeout_s=40):
            message = f"cloning {redact(watched.location)} into the cache; the first tick follows when it is done"
            context.log.info(message)
            return dg.SensorResult(skip_reason=message)
        head = watched.head()
        with watched.repo:  # ends the tick's cat-file processes
            plan = plan_tick(watched.repo, IndexStore(repository.state_folder("index")), context.cursor or None, head)
    except GitError as exc:
        context.log.error(str(exc))
        return dg.SensorResult(skip_reason=str(exc))  # the cursor stays: the next tick retries
    for line in plan.log:
        context.log.info(line)
    known = set(context.instance.get_dynamic_partitions(api_partitions.name))
    new = sorted({run.api for run in plan.runs} - known)
    deletions = [
        dg.AssetObservation(
            asset_key=api_spec.key, partition=api,
            metadata={"deleted_in_commit": commit, "config_file": config_path, "branch": watched.branch},
        )  # fmt: skip
        for api, config_path, commit in plan.deleted
        if api in known
    ]
    watched.pin(head)
    return dg.SensorResult(
        run_requests=[
            dg.RunRequest(run_key=run.run_key, partition_key=run.api, tags=run.tags(watched.branch))
            for run in plan.runs
        ],
        dynamic_partitions_requests=[api_partitions.build_add_request(new)] if new else [],
        asset_events=deletions,
        cursor=head,
        skip_reason=None if plan.runs else f"no API touched up to {head[:12]}",
    )
