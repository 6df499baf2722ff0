"""The release engine's own decisions, without a platform: which operations the canary's traffic can call, what
happens to an instance that started but could not be routed, and the judging loop's notes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from apiops_pipelines.delivery.canary_analysis import CanarySettings
from apiops_pipelines.delivery.canary_release import ReleaseRequest, _exercised, release_to_production
from apiops_pipelines.delivery.canary_run import MARGIN_S, CanaryRun, time_limit
from apiops_pipelines.delivery.deployments import ApiDeployment, DeployedRelease
from apiops_pipelines.delivery.operation_matcher import OperationMatcher
from apiops_pipelines.estate.api_config import CanaryConfig, ServiceConfig
from apiops_pipelines.platform import PlatformError


def _get(parameters: list | None = None, **extra: Any) -> dict:
    return {"get": {"parameters": parameters or [], "responses": {"200": {"description": "ok"}}, **extra}}


SPEC = {
    "openapi": "3.0.3",
    "info": {"title": "shop", "version": "1.0.0"},
    "paths": {
        "/items": _get(),
        "/health": _get(),
        "/admin/report": _get(**{"x-apiops-load-weight": 0}),
        "/odd/{n}": _get([{"name": "n", "in": "path", "required": True,
                           "schema": {"type": "integer", "minimum": 10, "maximum": 5}}]),  # admits no value
        "/orders": {"post": {"responses": {"201": {"description": "made"}}}},
    },
}  # fmt: skip


def _request(tmp_path: Path, **changes: Any) -> ReleaseRequest:
    fields: dict[str, Any] = dict(
        api="shop", repo=tmp_path, commit="b" * 40, api_folder="shop", service=ServiceConfig(command=["true"]),
        canary=CanaryConfig(), identity={"spec_version": "2.0.0"}, run_id="run-2", document=SPEC,
        frontend_url="http://127.0.0.1:9/shop", reports=tmp_path / "reports",
    )  # fmt: skip
    return ReleaseRequest(**{**fields, **changes})


def test_generated_traffic_exercises_only_the_operations_its_load_plan_sends(tmp_path: Path):
    """A touched /health, weight-0 or ungenerable GET was required though the traffic never calls it: the
    canary waited to max_wait and rolled a good release back as "insufficient data"."""
    matcher = OperationMatcher(SPEC, prefix="/shop")
    assert _exercised(_request(tmp_path), matcher) == {"GET /items"}
    assert _exercised(_request(tmp_path, canary=CanaryConfig(traffic="live")), matcher) is None


def test_generated_traffic_from_a_spec_without_any_loadable_get_exercises_nothing(tmp_path: Path):
    document = {**SPEC, "paths": {"/orders": SPEC["paths"]["/orders"]}}
    assert _exercised(_request(tmp_path, document=document), OperationMatcher(document)) == frozenset()


RELEASE = DeployedRelease("b" * 40, "2.0.0", "", "r-2", "127.0.0.1:9002", "svc-shop-r2", "run-2", 0.0)
STABLE = DeployedRelease("a" * 40, "1.0.0", "", "r-1", "127.0.0.1:9001", "svc-shop-r1", "run-1", 0.0)


class _Unroutable:
    """Production whose routing fails after the instance started: what release_to_production must clean up."""

    def __init__(self, stable: DeployedRelease | None) -> None:
        self.stable, self.discarded = stable, []

    def abort_canary(self, api: str) -> None:
        return None

    def deployment(self, api: str) -> ApiDeployment:
        return ApiDeployment(api, stable=self.stable)

    def start(self, *args: Any) -> DeployedRelease:
        return RELEASE

    def add_canary(self, api: str, release: DeployedRelease, health: str) -> None:
        raise PlatformError("HAProxy's runtime API refused the server")

    route_first = add_canary

    def discard(self, release: DeployedRelease) -> None:
        self.discarded.append(release)


@pytest.mark.parametrize("stable", [STABLE, None], ids=["canary", "first release"])
def test_an_instance_that_cannot_be_routed_is_stopped_again(tmp_path: Path, stable: DeployedRelease | None):
    """The instance started and recorded by the platform was left running when add_canary or route_first
    raised: no canary in the registry, so the watchdog never found it, and `platform up` revived it."""
    production = _Unroutable(stable)
    with pytest.raises(PlatformError):
        release_to_production(production, _request(tmp_path))  # type: ignore[arg-type]
    assert production.discarded == [RELEASE]


def test_generated_traffic_stopping_early_is_noted_once_for_the_whole_canary():
    """The note was appended every 10 s of every step: about fifteen identical lines per step."""
    now = [1000.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    settings = CanarySettings(steps=(10, 50, 100), interval_s=30.0, max_wait_s=150.0, operations=("GET /items",))
    run = CanaryRun("shop", settings, "r-2", "r-1", OperationMatcher(SPEC, prefix="/shop"),
                    set_weights=lambda *_: None, read_records=list, clock=lambda: now[0], sleep=sleep,
                    traffic_alive=lambda: False)  # fmt: skip
    outcome = run.run()
    assert not outcome.passed
    assert outcome.notes == ["generated traffic stopped early at 10% (see traffic.log)"]
    assert outcome.evidence is not None


def test_the_canary_and_its_traffic_share_one_time_limit():
    settings = CanarySettings(steps=(10, 100), interval_s=10.0, max_wait_s=60.0)
    assert time_limit(settings) == 2 * 60.0 + MARGIN_S
