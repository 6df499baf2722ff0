"""The nightly_regression schedule: one nightly run per API that production serves, never two on one day.

Ticks are evaluated on a real (SQLite) instance with `build_schedule_context`, and once through Dagster's own
scheduler-daemon code on a code location loaded the way the daemon loads one; only the run launcher is
Dagster's test launcher, so the requested runs are created but not executed."""

from __future__ import annotations

import gc
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

import dagster as dg
import pytest
# first: the scheduler module imports the daemon's modules, which import it back
import dagster._daemon.controller  # noqa: F401
from dagster._core.remote_origin import InProcessCodeLocationOrigin
from dagster._core.types.loadable_target_origin import LoadableTargetOrigin
from dagster._core.storage.defs_state.base import set_defs_state_storage
from dagster._core.workspace.context import WorkspaceProcessContext
from dagster._core.workspace.load_target import InProcessWorkspaceLoadTarget
from dagster._scheduler.scheduler import launch_scheduled_runs

from apiops_pipelines.delivery.deployments import ApiDeployment, DeployedRelease, DeploymentRegistry
from apiops_pipelines.jobs.nightly_schedule import NIGHTLY_TAG, build_nightly_schedule, nightly_cron
from apiops_pipelines.resources.platform import PlatformResource
from apiops_pipelines.resources.repository import RepositoryResource

DAY = datetime(2026, 3, 4, tzinfo=timezone.utc)


def _release(commit: str) -> DeployedRelease:
    return DeployedRelease(commit, "1.0.0", "ab" * 32, "s-1", "127.0.0.1:9", "svc-x-1", "run", 0.0)


@pytest.fixture
def estate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Production serves shop and books; drafts has only a canary so far (never promoted)."""
    home = tmp_path / "home"
    monkeypatch.setenv("APIOPS_HOME", str(home))
    registry = DeploymentRegistry(home / "deployments")
    registry.save(ApiDeployment("shop", stable=_release("a" * 40)))
    registry.save(ApiDeployment("books", stable=_release("b" * 40)))
    registry.save(ApiDeployment("drafts", canary=_release("c" * 40)))
    return home


def tick(instance: dg.DagsterInstance, home: Path, at: datetime) -> list[dg.RunRequest] | str:
    """The schedule's answer at `at`: its run requests, or its skip message."""
    schedule = build_nightly_schedule()
    resources = {"platform": PlatformResource(home=str(home)),
                 "repository": RepositoryResource(location=str(home), branch="main", home=str(home))}
    context = dg.build_schedule_context(instance=instance, scheduled_execution_time=at, resources=resources)
    data = schedule.evaluate_tick(context)
    return list(data.run_requests) if data.run_requests else str(data.skip_message)


def test_a_tick_requests_one_run_per_production_api_and_none_for_an_api_without_production(estate: Path) -> None:
    with dg.instance_for_test() as instance:
        requests = tick(instance, estate, DAY.replace(hour=2))
    assert sorted(r.run_key for r in requests) == ["books:2026-03-04", "shop:2026-03-04"]
    shop = next(r for r in requests if r.run_key.startswith("shop:"))
    assert shop.tags["apiops/api"] == "shop" and shop.tags["apiops/commit"] == "a" * 40
    assert shop.tags["apiops/job"] == "nightly" and shop.tags["apiops/branch"] == "main"
    assert shop.run_config == {"ops": {"verify_production_release": {"config": {"api": "shop"}}}}


def test_a_second_tick_on_the_same_day_requests_the_same_run_keys_and_none_once_they_ran(estate: Path) -> None:
    with dg.instance_for_test() as instance:
        morning = tick(instance, estate, DAY.replace(hour=2))
        afternoon = tick(instance, estate, DAY.replace(hour=14, minute=30))
        assert [r.run_key for r in afternoon] == [r.run_key for r in morning]
        _a_run_tagged(instance, {NIGHTLY_TAG: "shop:2026-03-04"})  # shop's nightly of the day exists
        assert [r.run_key for r in tick(instance, estate, DAY.replace(hour=20))] == ["books:2026-03-04"]
        _a_run_tagged(instance, {NIGHTLY_TAG: "books:2026-03-04"})
        assert tick(instance, estate, DAY.replace(hour=23)).startswith("2 production API(s), every one already")
        tomorrow = tick(instance, estate, DAY.replace(day=5, hour=2))
    assert sorted(r.run_key for r in tomorrow) == ["books:2026-03-05", "shop:2026-03-05"]


def test_no_production_release_anywhere_skips_the_tick_and_says_why(tmp_path: Path) -> None:
    with dg.instance_for_test() as instance:
        assert tick(instance, tmp_path, DAY) == "no API has a production release yet"


def test_the_cron_comes_from_the_environment_and_a_bad_one_falls_back_with_a_message() -> None:
    assert nightly_cron(None) == ("0 2 * * *", None)
    assert nightly_cron("30 3 * * 1-5") == ("30 3 * * 1-5", None)
    cron, problem = nightly_cron("every night")
    assert cron == "0 2 * * *" and "APIOPS_NIGHTLY_CRON='every night' is not a cron expression" in problem


def test_the_scheduler_daemon_starts_one_run_per_production_api_however_often_it_ticks_in_a_day(
    estate: Path,
) -> None:
    """Dagster's own run-key check for schedules matches the tick's time too: a schedule ticking twice a day
    with the same key started every API twice, until the schedule looked for the day's run itself."""
    overrides = {"run_launcher": {"module": "dagster._core.test_utils", "class": "MockedRunLauncher"}}
    with dg.instance_for_test(overrides=overrides) as instance, _daemon_workspace(instance) as workspace:
        for at in (DAY.replace(hour=1), DAY.replace(hour=2, minute=1), DAY.replace(hour=14, minute=1)):
            list(launch_scheduled_runs(workspace, logging.getLogger("nightly-test"), at, iteration_times={}))
            if at.hour == 2:
                after_first = _nightly_keys(instance)
        assert after_first == ["books:2026-03-04", "shop:2026-03-04"]
        assert _nightly_keys(instance) == after_first  # the 14:00 tick started nothing
        runs = instance.get_runs(dg.RunsFilter(job_name="nightly"))
        assert {run.tags["apiops/api"] for run in runs} == {"books", "shop"}


def test_the_definitions_load_with_the_nightly_job_its_schedule_and_its_check() -> None:
    """The job, the schedule (running by default) and the declared check are in the code location."""
    from apiops_pipelines.definitions import defs as merged
    from apiops_pipelines.jobs.nightly_check import NIGHTLY_CHECK_KEY
    assert merged.resolve_job_def("nightly").tags["apiops/job"] == "nightly"
    schedule = merged.resolve_schedule_def("nightly_regression")
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING and schedule.execution_timezone == "UTC"
    check = merged.resolve_asset_graph().get_check_spec(NIGHTLY_CHECK_KEY)
    assert check.blocking is False and check.partitions_def is not None  # one state per API in the UI
    # not a stage of a release: the release job leaves it out
    steps = {node.name for node in merged.resolve_job_def("release").all_node_defs}
    assert "canary_release" in steps and not any("nightly" in step or "within_slo" in step for step in steps)


def _nightly_keys(instance: dg.DagsterInstance) -> list[str]:
    return sorted(run.tags[NIGHTLY_TAG] for run in instance.get_runs(dg.RunsFilter(job_name="nightly")))


def _a_run_tagged(instance: dg.DagsterInstance, tags: dict[str, str]) -> None:
    @dg.op
    def nothing() -> None:
        pass

    @dg.job(name="nightly")
    def stand_in() -> None:
        nothing()

    assert stand_in.execute_in_process(instance=instance, tags=tags).success


@contextmanager
def _daemon_workspace(instance: dg.DagsterInstance) -> Iterator:
    origin = InProcessCodeLocationOrigin(
        LoadableTargetOrigin(python_file=str(Path(__file__).with_name("nightly_location.py")), attribute="defs"),
        location_name="nightly-test",
    )  # fmt: skip
    # Definitions load with the state storage of "the current instance", a context variable. A context manager
    # an earlier test left to the garbage collector resets it, when collected, to that test's instance (gone by
    # then), and loading fails. Collect first, then name this instance: what a daemon process always has.
    gc.collect()
    with set_defs_state_storage(instance.defs_state_storage), \
            WorkspaceProcessContext(instance, InProcessWorkspaceLoadTarget(origin)) as workspace:
        yield workspace
