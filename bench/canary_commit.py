"""Commit to production for bench/canary.py: the example estate's orders API through the real release job.

The demo repository (the example estate as its first commit) under a short temporary home; the `release` job
of apiops_pipelines.definitions, run in-process on a local SQLite Dagster instance with the repository,
artifact and platform resources pointing at that home (HAProxy and supervisord really started, always taken
down). The example's own configuration, unchanged: fuzz 50 examples, load 20 s, canary 10/50/100 with 10 s
steps at 150 req/s. Measured: from the moment the commit exists to `production_deployment`'s
materialization, for the API's first release (smoke pass, no canary) and for a second commit (a canary beside
the first). A deployment's commit sensor adds up to its interval (30 s by default) before a run starts;
in-process runs start at once.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import dagster as dg

from apiops_pipelines.definitions import defs
from apiops_pipelines.demo.estate import create_demo_repo
from apiops_pipelines.estate.git import run_git
from apiops_pipelines.platform import Platform
from apiops_pipelines.platform.instances import free_port
from apiops_pipelines.platform.teardown import take_down
from apiops_pipelines.resources.artifacts import ArtifactStoreResource
from apiops_pipelines.resources.platform import PlatformResource
from apiops_pipelines.resources.repository import RepositoryResource

API = "orders"
QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}  # the event log keeps everything
SERVICE_CHANGE = "\n# Release note: answers unchanged; a service-only commit, so the release runs as a canary.\n"


def _stage_seconds(instance: dg.DagsterInstance, run_id: str) -> dict[str, float]:
    """Each step's start to its end, from the run's event log."""
    started: dict[str, float] = {}
    took: dict[str, float] = {}
    for entry in instance.all_logs(run_id):
        event = entry.dagster_event
        if event is None or not event.step_key:
            continue
        if event.event_type_value == "STEP_START":
            started[event.step_key] = entry.timestamp
        elif event.event_type_value in ("STEP_SUCCESS", "STEP_FAILURE") and event.step_key in started:
            took[event.step_key] = round(entry.timestamp - started[event.step_key], 1)
    return took


def _release(job: dg.JobDefinition, instance: dg.DagsterInstance, repo: Path, committed_at: float) -> dict:
    head = run_git(repo, "rev-parse", "HEAD").decode().strip()
    result = job.execute_in_process(instance=instance, partition_key=API, tags={"apiops/commit": head},
                                    raise_on_error=False, run_config=QUIET)  # fmt: skip
    ended = time.time()
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=dg.AssetKey("production_deployment"), asset_partitions=[API]), limit=1
    ).records
    record = records[0] if records and records[0].run_id == result.run_id else None
    checks = {e.asset_check_evaluation_data.check_name: e.asset_check_evaluation_data
              for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"}  # fmt: skip
    canary = checks.get("canary_analysis")
    metadata = record.asset_materialization.metadata if record else {}
    lead = metadata.get("commit_to_production_s")
    return {
        "commit": head, "success": result.success, "in_production": record is not None,
        "commit_to_production_s": record.timestamp - committed_at if record else None,
        "asset_commit_to_production_s": lead.value if lead is not None else None,  # the asset's own (1 s clock)
        "run_s": ended - committed_at, "stages_s": _stage_seconds(instance, result.run_id),
        "canary_analysis": canary.description if canary else None,
        "failed_checks": sorted(name for name, check in checks.items() if not check.passed),
    }  # fmt: skip


def commit_to_production(home: Path, log: Callable[[str], None] = print) -> dict:
    frontend, stats = f"127.0.0.1:{free_port()}", f"127.0.0.1:{free_port()}"
    resources = {
        **defs.resources,  # the notifier and whatever else the code location binds
        "repository": RepositoryResource(location=str(home / "estate"), branch="main", home=str(home)),
        "artifacts": ArtifactStoreResource(home=str(home)),
        "platform": PlatformResource(home=str(home), frontend=frontend, stats=stats),
    }
    job = dg.Definitions(assets=defs.assets, asset_checks=defs.asset_checks, jobs=defs.jobs,
                         resources=resources).resolve_job_def("release")  # fmt: skip
    (home / "dagster").mkdir(parents=True, exist_ok=True)
    try:
        with dg.DagsterInstance.local_temp(str(home / "dagster")) as instance:
            instance.add_dynamic_partitions("apis", [API])
            repo, _ = create_demo_repo(home / "estate")
            first = _release(job, instance, repo, time.time())
            log(f"{API}: first release {'in production' if first['in_production'] else 'NOT in production'} "
                f"after {first['run_s']:.0f} s")  # fmt: skip
            app = repo / API / "service" / "app.py"
            app.write_text(app.read_text() + SERVICE_CHANGE)
            run_git(repo, "-c", "user.name=bench", "-c", "user.email=bench@localhost", "commit", "-qam",
                    "orders: a service-only change (bench/canary.py)")  # fmt: skip
            second = _release(job, instance, repo, time.time())
            log(f"{API}: second release {'in production' if second['in_production'] else 'NOT in production'} "
                f"after {second['run_s']:.0f} s")  # fmt: skip
    finally:
        take_down(Platform(home / "platform"))
    return {"first": first, "second": second}
