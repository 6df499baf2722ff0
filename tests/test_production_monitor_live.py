"""The production monitor on real processes: HAProxy and supervisord started, the shop released to production
through the real delivery stages, real requests through the gateway. The sensor's observation counts exactly
the requests the test sent (and the errors it got back), and a production slower than its SLO fails
`production_within_slo`, both when the sensor records it (tick after tick) and when the check is executed on demand. The
slowness is injected (the shop sleeps 20 ms on GET /items/{id}; the SLO asks for a p95 of 10 ms), never
measured against the machine's speed."""

from __future__ import annotations

import time
from collections import Counter

import dagster as dg
import httpx
import pytest
from delivery_support import Shop, shop, shop_files  # noqa: F401 (a fixture)
from platform_support import needs_haproxy, short_folder  # noqa: F401 (a fixture)

from apiops_pipelines.assets.production_checks import production_within_slo
from apiops_pipelines.assets.production_monitoring import PRODUCTION_DEPLOYMENT, PRODUCTION_WITHIN_SLO
from apiops_pipelines.definitions import defs
from apiops_pipelines.monitor.log_window import MonitorCursor
from apiops_pipelines.platform import parse_line
from apiops_pipelines.sensors import production_monitor as monitor_module
from apiops_pipelines.sensors.production_monitor import production_monitor

pytestmark = [pytest.mark.slow, needs_haproxy]
CHECK = dg.AssetCheckKey(PRODUCTION_DEPLOYMENT, PRODUCTION_WITHIN_SLO)


def tick(shop: Shop, cursor: str | None) -> dg.SensorResult:
    """One evaluation of the sensor, its events then recorded as the daemon records them."""
    context = dg.build_sensor_context(instance=shop.instance, cursor=cursor, resources=shop.resources)
    data = production_monitor.evaluate_tick(context)
    for event in data.asset_events:
        shop.instance.report_runless_asset_event(event)
    return data


def send(shop: Shop, paths: list[str]) -> Counter[str]:
    """GET each path through the production frontend; the statuses the client got back."""
    statuses: Counter[str] = Counter()
    with httpx.Client(trust_env=False, timeout=10) as client:
        for path in paths:
            statuses[str(client.get(shop.url + path).status_code)] += 1
    return statuses


def logged(shop: Shop, cursor: str, expected: int) -> None:
    """Wait until the gateway has logged `expected` requests of the shop after `cursor`: HAProxy writes a line
    once a request has ended, which may be just after the client has its answer."""
    offset = MonitorCursor.from_text(cursor).log.offset
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with open(shop.platform.access_log, "rb") as log:
            log.seek(offset)
            lines = log.read().decode().splitlines()
        if sum(1 for r in map(parse_line, lines) if r is not None and r.backend == "shop") >= expected:
            return
        time.sleep(0.1)
    raise AssertionError(f"the gateway did not log {expected} requests of the shop within 20 s")


def latest_observation(shop: Shop) -> dict:
    records = shop.instance.fetch_observations(
        dg.AssetRecordsFilter(asset_key=PRODUCTION_DEPLOYMENT, asset_partitions=["shop"]), limit=1).records
    return {key: value.value for key, value in records[0].asset_observation.metadata.items()}


def test_the_monitor_counts_real_gateway_traffic_exactly_and_a_slow_production_fails_its_slo(shop, monkeypatch):
    files = shop_files("1.0.0", {"SHOP_ERROR_EVERY": "7"})  # every 7th item request answers 500 in production
    files["shop/apiops.yaml"] += "load: {slo: {p95_ms: 10, error_rate: 0.5, min_rps: 1000}}\n"
    commit = shop.repo.commit("shop 1.0.0 with an SLO", files)
    assert shop.release(commit).success
    breaches: list = []
    monkeypatch.setattr(monitor_module, "notify_slo_breaches", lambda _context, events, _repository: breaches.extend(events))

    first = tick(shop, None)
    assert first.asset_events == [] and first.skip_message.startswith("first tick: reading the access log from its end")
    paths = ["/items", "/items/1"] * 30 + ["/nothing"] * 5
    statuses = send(shop, paths)
    assert set(statuses) <= {"200", "500", "404"} and statuses["404"] == 5
    logged(shop, first.cursor, len(paths))

    second = tick(shop, first.cursor)
    seen = latest_observation(shop)
    assert (seen["requests"], seen["server_errors"], seen["client_errors"]) == (65, statuses["500"], 5)
    assert seen["error_rate"] == pytest.approx(statuses["500"] / 65)
    assert seen["client_error_rate"] == pytest.approx(5 / 65)
    assert seen["requests_per_s"] == pytest.approx(65 / seen["window_s"], rel=1e-3)
    assert seen["p95_ms"] >= 20 and seen["p50_ms"] <= seen["p95_ms"] <= seen["p99_ms"]
    assert (seen["commit"], seen["spec_version"]) == (commit, "1.0.0")
    table = seen["operations"]
    assert "| GET /items/{id} | 30 |" in table and "| GET /items | 30 |" in table and "| unmatched | 5 |" in table

    (verdict,) = shop.instance.event_log_storage.get_asset_check_execution_history(CHECK, limit=1)
    assert verdict.status.value == "FAILED" and verdict.evaluation.severity == dg.AssetCheckSeverity.ERROR
    assert verdict.evaluation.description.startswith("shop: p95 latency ")
    assert "is over the SLO of 10 ms" in verdict.evaluation.description
    assert "requests/s is under" not in verdict.evaluation.description  # min_rps: a load-test target only
    assert verdict.evaluation.metadata["in_breach"].value == "shop"
    assert [(event.kind, event.api, event.commit) for event in breaches] == [("slo_breach", "shop", commit)]
    assert MonitorCursor.from_text(second.cursor).breaching == ("shop",)

    more = send(shop, ["/items/2"] * 25)
    logged(shop, second.cursor, 25)
    third = tick(shop, second.cursor)  # a second evaluation of the check: repeatable, unlike a partitioned one
    assert latest_observation(shop)["requests"] == 25 == sum(more.values())
    assert len(breaches) == 1 and MonitorCursor.from_text(third.cursor).breaching == ("shop",)  # notified once
    history = shop.instance.event_log_storage.get_asset_check_execution_history(CHECK, limit=5)
    assert [record.status.value for record in history] == ["FAILED", "FAILED"]

    monkeypatch.setenv("APIOPS_MONITOR_INTERVAL", "3600")  # on demand: the last hour, however slow this machine
    on_demand = dg.Definitions(assets=defs.assets, asset_checks=[production_within_slo], resources=shop.resources)
    job = on_demand.resolve_implicit_global_asset_job_def().get_subset(asset_check_selection={CHECK})
    result = job.execute_in_process(instance=shop.instance, raise_on_error=False)
    (evaluation,) = [e.asset_check_evaluation_data for e in result.all_events
                     if e.event_type_value == "ASSET_CHECK_EVALUATION"]  # fmt: skip
    assert not evaluation.passed and evaluation.description.startswith("shop: p95 latency ")
    assert "| shop | breach | " in evaluation.metadata["verdicts"].value
