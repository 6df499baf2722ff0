"""The production_monitor sensor on a real Dagster instance, with a constructed access log and production record (no
gateway: test_production_monitor_live.py has the real one): what a tick records, and what it says when it cannot
judge."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest

from apiops_pipelines.assets.production_monitoring import PRODUCTION_DEPLOYMENT, PRODUCTION_WITHIN_SLO, access_log
from apiops_pipelines.delivery.deployments import ApiDeployment, DeployedRelease, DeploymentRegistry
from apiops_pipelines.delivery.release_ledger import ReleaseLedger
from apiops_pipelines.resources.artifacts import ArtifactStoreResource
from apiops_pipelines.resources.platform import PlatformResource
from apiops_pipelines.resources.repository import RepositoryResource
from apiops_pipelines.sensors.production_monitor import production_monitor

SPEC = {"openapi": "3.0.3", "info": {"title": "shop", "version": "1.0.0"},
        "paths": {"/items": {"get": {"responses": {"200": {"description": "ok"}}}}}}  # fmt: skip
RELEASE = DeployedRelease(commit="c" * 40, spec_version="1.0.0", spec_sha256="f" * 64, server="shop-c1",
                          address="127.0.0.1:9", program=None, run_id="", deployed_at=0.0)  # fmt: skip


class Production:
    def __init__(self, home: Path, instance: dg.DagsterInstance) -> None:
        self.home, self.instance, self.cursor = home, instance, None
        DeploymentRegistry(home / "deployments").save(ApiDeployment("shop", stable=RELEASE))
        self.resources = {"platform": PlatformResource(home=str(home)),
                          "artifacts": ArtifactStoreResource(home=str(home)),
                          "repository": RepositoryResource(location="", home=str(home))}  # fmt: skip
        self.log = access_log(self.resources["platform"])
        self.log.parent.mkdir(parents=True, exist_ok=True)
        self.log.touch()

    def record_spec(self) -> None:
        spec = ReleaseLedger(self.home / "ledger").spec_file("shop", RELEASE.spec_sha256)
        spec.parent.mkdir(parents=True, exist_ok=True)
        spec.write_text(json.dumps(SPEC))

    def serve(self, backend: str, path: str, status: int = 200, count: int = 1) -> None:
        with self.log.open("a") as out:
            for _ in range(count):
                out.write(f"apiops1 1700000000.000 fe_production {backend} shop-c1 {status} 0 0 0 3 7 99 0 ---- 0 "
                          f"GET {path}\n")  # fmt: skip

    def tick(self) -> dg.SensorResult:
        context = dg.build_sensor_context(instance=self.instance, cursor=self.cursor, resources=self.resources)
        data = production_monitor.evaluate_tick(context)
        for event in data.asset_events:  # what the daemon does with them
            self.instance.report_runless_asset_event(event)
        self.cursor = data.cursor
        return data


@pytest.fixture
def production(tmp_path: Path) -> Iterator[Production]:
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("apis", ["shop", "orders"])
        yield Production(tmp_path / "home", instance)


def test_a_tick_observes_each_api_in_production_and_warns_when_its_slo_cannot_be_read(production):
    production.record_spec()
    production.serve("shop", "/shop/items", count=3)  # before the monitor: not its window
    assert production.tick().asset_events == []
    production.serve("shop", "/shop/items", count=23)
    production.serve("shop", "/shop/items", status=500, count=2)
    production.serve("orders", "/orders/things", count=9)  # no production release
    production.serve("mock-shop", "/mock/shop/items", count=4)  # the shop's mock
    data = production.tick()
    observation, evaluation = data.asset_events
    assert observation.partition == "shop" and observation.asset_key == PRODUCTION_DEPLOYMENT
    numbers = {key: value.value for key, value in observation.metadata.items()}
    assert (numbers["requests"], numbers["server_errors"], numbers["error_rate"]) == (25, 2, 2 / 25)
    assert numbers["p95_ms"] == 7.0 and numbers["commit"] == RELEASE.commit and numbers["slo"] == "SLO unknown"
    assert "| GET /items | 25 |" in numbers["operations"]
    assert (evaluation.check_name, evaluation.passed, evaluation.severity) == (
        PRODUCTION_WITHIN_SLO, False, dg.AssetCheckSeverity.WARN)  # nothing judged: a warning, not a breach
    assert evaluation.description.startswith("shop: SLO unknown (no repository configured: set APIOPS_REPO")
    (record,) = production.instance.event_log_storage.get_asset_check_execution_history(
        dg.AssetCheckKey(PRODUCTION_DEPLOYMENT, PRODUCTION_WITHIN_SLO), limit=5)
    assert record.status.value == "FAILED"


def test_a_tick_without_traffic_records_nothing_and_moves_its_window_on(production):
    production.tick()
    first = json.loads(production.cursor)
    data = production.tick()
    assert data.asset_events == []
    assert data.skip_message == "no production traffic since the last tick (1 API(s) in production)"
    assert json.loads(production.cursor)["since"] > first["since"]


def test_requests_before_the_spec_reaches_the_ledger_count_as_unmatched_and_match_once_it_does(production):
    """A promotion switches traffic before it records the spec: a matcher built without it must not stick."""
    production.tick()
    production.serve("shop", "/shop/items", count=2)
    observation, _ = production.tick().asset_events
    assert "| unmatched | 2 |" in observation.metadata["operations"].value
    production.record_spec()
    production.serve("shop", "/shop/items", count=2)
    observation, _ = production.tick().asset_events
    assert "| GET /items | 2 |" in observation.metadata["operations"].value
