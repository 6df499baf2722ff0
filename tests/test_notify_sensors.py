"""The notification sensors on a real Dagster instance: a failed run's stage and message, and a failed
non-blocking check of a green run, reported once."""

from __future__ import annotations

import dagster as dg
import pytest
from notify_support import WebhookServer

from apiops_pipelines.resources.notifier import NotifierResource
from apiops_pipelines.sensors.check_failure_notice import notify_check_failures
from apiops_pipelines.sensors.run_failure_notice import notify_run_failure

COMMIT = "fedcba9876543210fedcba9876543210fedcba98"
TAGS = {"apiops/api": "orders", "apiops/commit": COMMIT}


@dg.asset
def spec_validation() -> None:
    pass


@dg.asset(deps=[spec_validation])
def canary_release() -> None:
    raise RuntimeError("canary judged worse: GET /orders 5xx 9.8% against 0.0% on the stable")


@dg.asset(check_specs=[dg.AssetCheckSpec("governance_lint", asset="breaking_changes", blocking=True)])
def breaking_changes() -> dg.MaterializeResult:
    return dg.MaterializeResult(check_results=[dg.AssetCheckResult(
        check_name="governance_lint", passed=False, description="2 errors: openapi.yaml:14:9 operation-operationId")])


@dg.asset
def load_report() -> None:
    pass


@dg.asset_check(asset=load_report, blocking=False)
def load_no_regression() -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=False, severity=dg.AssetCheckSeverity.WARN,
                               description="GET /orders: p95 41 ms is 1.7x the verified release")  # fmt: skip


@pytest.fixture(autouse=True)
def ui(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APIOPS_DAGSTER_URL", "http://dagster.example:3000/")


def failure_notice(assets: list, server: WebhookServer) -> tuple[dict, str]:
    """Run a `release` job of `assets` that fails, evaluate the failure sensor on it; the payload and run id."""
    job = dg.Definitions(assets=assets, jobs=[dg.define_asset_job("release")]).resolve_job_def("release")
    with dg.instance_for_test() as instance:
        result = job.execute_in_process(instance=instance, tags=TAGS, raise_on_error=False)
        assert not result.success
        # `with`: the notifier holds the repository resource, so Dagster opens its resources in a scope.
        with dg.build_run_status_sensor_context(
            sensor_name="notify_run_failure", dagster_event=result.get_run_failure_event(),
            dagster_instance=instance, dagster_run=result.dagster_run,
            resources={"notifier": NotifierResource(urls=server.url, backoff_s=0.01)},
        ) as context:  # fmt: skip
            notify_run_failure(context.for_run_failure())
    [request] = server.received
    return request.json(), result.dagster_run.run_id


def test_a_failed_release_run_is_reported_with_its_stage_message_and_link() -> None:
    with WebhookServer() as server:
        body, run_id = failure_notice([spec_validation, canary_release], server)
    assert body["event"] == "run_failed" and body["api"] == "orders" and body["commit"] == COMMIT
    assert body["details"]["stage"] == "canary_release" and body["details"]["job"] == "release"
    assert body["summary"] == "RuntimeError: canary judged worse: GET /orders 5xx 9.8% against 0.0% on the stable"
    assert body["url"] == f"http://dagster.example:3000/runs/{run_id}"
    assert "release run failed at canary_release" in body["text"] and "5xx 9.8%" in body["text"]


def test_a_blocking_check_that_stops_the_run_is_reported_with_its_description() -> None:
    """Dagster's own message only says that a blocking check failed, not what it found."""
    with WebhookServer() as server:
        body, _ = failure_notice([breaking_changes], server)
    assert body["details"]["stage"] == "breaking_changes"
    assert body["summary"] == ("failed check(s): breaking_changes:governance_lint "
                               "(2 errors: openapi.yaml:14:9 operation-operationId)")  # fmt: skip


def test_a_failed_non_blocking_check_of_a_green_run_is_reported_exactly_once() -> None:
    """Dagster's failure sensors stay silent for a run that succeeded; this one must not."""
    defs = dg.Definitions(assets=[load_report], asset_checks=[load_no_regression],
                          jobs=[dg.define_asset_job("release")])  # fmt: skip
    with dg.instance_for_test() as instance, WebhookServer() as server:
        notifier = NotifierResource(urls=server.url, backoff_s=0.01)

        def tick(cursor: str | None) -> str | None:
            with dg.build_sensor_context(instance=instance, cursor=cursor, resources={"notifier": notifier}) as context:
                notify_check_failures(context)
                return context.cursor

        job = defs.resolve_job_def("release")
        assert job.execute_in_process(instance=instance, tags={**TAGS, "apiops/commit": "0" * 40}).success
        cursor = tick(None)  # the first tick starts from now: the run before it is history, not replayed
        result = job.execute_in_process(instance=instance, tags=TAGS)
        assert result.success
        cursor = tick(cursor)
        tick(cursor)
    [request] = server.received
    body = request.json()
    assert body["event"] == "check_failed" and body["api"] == "orders" and body["commit"] == COMMIT
    assert body["details"]["check"] == "load_no_regression" and body["details"]["severity"] == "WARN"
    assert body["summary"] == "GET /orders: p95 41 ms is 1.7x the verified release"
    assert body["url"] == f"http://dagster.example:3000/runs/{result.dagster_run.run_id}"
