"""Notices a sensor tick sends several of: in order, stopping after the first failed delivery, and starting none
once the tick's time for them is spent. Against a real webhook on 127.0.0.1, counted in requests it got."""

from __future__ import annotations

import dagster as dg
import pytest
from notify_support import WebhookServer

from apiops_pipelines.notify import NOTIFY_URL_ENV, slo_breach
from apiops_pipelines.resources.notifier import NotifierResource
from apiops_pipelines.sensors import check_failure_notice
from apiops_pipelines.sensors.check_failure_notice import notify_check_failures
from apiops_pipelines.sensors.production_monitor import notify_slo_breaches

COMMIT = "fedcba9876543210fedcba9876543210fedcba98"


def breaches(*apis: str) -> list:
    return [slo_breach(api, COMMIT, "p95 412 ms > 250 ms") for api in apis]


def test_notify_all_sends_in_order_and_drops_the_rest_after_a_refused_delivery() -> None:
    with WebhookServer(statuses=(200, 404)) as server:  # a 404 is not retried: one request for it
        outcome = NotifierResource(urls=server.url, backoff_s=0.01).notify_all(breaches("a", "b", "c"), 60)
    assert [request.json()["api"] for request in server.received] == ["a", "b"]
    assert ([e.api for e in outcome.sent], [e.api for e in outcome.dropped], outcome.unsent) == (["a"], ["b", "c"], ())


def test_notify_all_gives_the_first_failing_delivery_its_retries_and_posts_nothing_after_it() -> None:
    with WebhookServer(statuses=(500,)) as server:
        outcome = NotifierResource(urls=server.url, attempts=2, backoff_s=0.01).notify_all(breaches("a", "b", "c"), 60)
    assert [request.json()["api"] for request in server.received] == ["a", "a"]
    assert (outcome.sent, len(outcome.dropped), outcome.unsent) == ((), 3, ())


def test_notify_all_starts_no_delivery_once_its_budget_is_spent() -> None:
    with WebhookServer() as server:
        outcome = NotifierResource(urls=server.url).notify_all(breaches("a", "b"), 0)
    assert server.received == [] and (outcome.sent, outcome.dropped, len(outcome.unsent)) == ((), (), 2)


def test_notify_all_with_notifications_off_posts_nothing() -> None:
    outcome = NotifierResource(urls="").notify_all(breaches("a"), 60)
    assert (outcome.sent, len(outcome.dropped)) == ((), 1)


def test_breach_notices_stop_at_the_first_failed_delivery(monkeypatch: pytest.MonkeyPatch) -> None:
    """A real failure: the monitor posted every breach notice one by one, each up to the delivery deadline, so
    with three APIs in breach and a hanging webhook the tick overran Dagster's 60 s, lost its cursor and
    breaching set, and posted the same notices again the next minute."""
    with WebhookServer(statuses=(404,)) as server:
        monkeypatch.setenv(NOTIFY_URL_ENV, server.url)
        notify_slo_breaches(dg.build_sensor_context(), breaches("a", "b", "c"), None)
    assert [request.json()["api"] for request in server.received] == ["a"]


@dg.asset
def load_report() -> None:
    pass


@dg.asset_check(asset=load_report, blocking=False)
def load_no_regression() -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=False, severity=dg.AssetCheckSeverity.WARN, description="p95 1.7x")


def green_runs_with_a_failed_check(instance: dg.DagsterInstance, apis: list[str]) -> None:
    defs = dg.Definitions(assets=[load_report], asset_checks=[load_no_regression],
                          jobs=[dg.define_asset_job("release")])  # fmt: skip
    for api in apis:
        result = defs.resolve_job_def("release").execute_in_process(
            instance=instance, tags={"apiops/api": api, "apiops/commit": COMMIT})
        assert result.success


def check_tick(instance: dg.DagsterInstance, notifier: NotifierResource, cursor: str | None) -> str | None:
    with dg.build_sensor_context(instance=instance, cursor=cursor, resources={"notifier": notifier}) as context:
        notify_check_failures(context)
        return context.cursor


def test_check_notices_after_a_failed_delivery_are_dropped_and_the_cursor_moves_past_their_runs() -> None:
    with dg.instance_for_test() as instance, WebhookServer(statuses=(404,)) as server:
        notifier = NotifierResource(urls=server.url, backoff_s=0.01)
        cursor = check_tick(instance, notifier, None)
        green_runs_with_a_failed_check(instance, ["orders", "books", "shop"])
        cursor = check_tick(instance, notifier, cursor)
        assert [request.json()["api"] for request in server.received] == ["orders"]
        assert check_tick(instance, notifier, cursor) == cursor  # nothing left behind to post again
    assert len(server.received) == 1


def test_runs_whose_notices_were_not_tried_in_time_wait_for_the_next_tick(monkeypatch: pytest.MonkeyPatch) -> None:
    with dg.instance_for_test() as instance, WebhookServer() as server:
        notifier = NotifierResource(urls=server.url, backoff_s=0.01)
        first = check_tick(instance, notifier, None)
        green_runs_with_a_failed_check(instance, ["orders", "books"])
        monkeypatch.setattr(check_failure_notice, "TICK_BUDGET_S", 0.0)
        assert check_tick(instance, notifier, first) == first and server.received == []
        monkeypatch.setattr(check_failure_notice, "TICK_BUDGET_S", 30.0)
        second = check_tick(instance, notifier, first)
        assert check_tick(instance, notifier, second) == second
    assert sorted(request.json()["api"] for request in server.received) == ["books", "orders"]
