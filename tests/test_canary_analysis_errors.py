"""The canary judgement's error-rate e-process, its alpha budget, and the inputs it takes."""

from __future__ import annotations

import math
import random

import pytest

from apiops_pipelines.estate.api_config import CanaryConfig
from apiops_pipelines.delivery.canary_analysis import (ALL_OPERATIONS, CLIENT, LATENCY, SERVER, AlphaBudget,
                                                       CanarySettings, observation_from_record,
                                                       settings_from_config)  # fmt: skip
from apiops_pipelines.delivery.canary_analysis.error_rate_test import (ErrorRateTest, _log_likelihood, log_e_value,
                                                                       log_null_maximum)  # fmt: skip
from apiops_pipelines.platform.access_log import AccessRecord


@pytest.mark.parametrize(
    ("canary_share", "canary_rate", "stable_rate", "tolerance", "requests"),
    [
        (0.5, 0.03, 0.02, 0.01, 1000),  # exactly at the tolerance: the hardest null
        (0.5, 0.05, 0.05, 0.0, 1000),  # no tolerance
        (0.1, 0.011, 0.001, 0.01, 2000),  # a 10% canary beside a healthy stable
    ],
)
def test_error_e_process_false_alarms_stay_below_alpha_when_checked_after_every_request(
    canary_share: float, canary_rate: float, stable_rate: float, tolerance: float, requests: int
) -> None:
    """A fixed-size test looked at after every request rolls back good canaries far more often than its alpha;
    1,000 seeded streams at the edge of H0, each checked at every request, must stay within alpha."""
    alpha, streams, alarms = 0.05, 1000, 0
    rng = random.Random(1234)
    for _ in range(streams):
        test = ErrorRateTest(SERVER, ALL_OPERATIONS, alpha, tolerance)
        for i in range(requests):
            canary = rng.random() < canary_share
            if test.add(canary, rng.random() < (canary_rate if canary else stable_rate), float(i)):
                alarms += 1
                break
    assert alarms <= alpha * streams


def test_a_canary_within_the_tolerance_is_no_evidence() -> None:
    assert log_e_value(1, 100, 1, 900, 0.01) == 0.0  # 1% against 0.1% + 1 point
    assert log_e_value(0, 100, 0, 900, 0.0) == 0.0
    assert log_e_value(2, 100, 1, 900, 0.01) < 1.0  # just above the tolerance: far from 1/alpha


def test_a_tenth_of_canary_requests_failing_beside_a_healthy_stable_is_evidence() -> None:
    assert log_e_value(10, 100, 0, 900, 0.01) > math.log(1 / 0.003)
    assert log_e_value(10, 100, 0, 900, 0.01) > log_e_value(10, 100, 5, 900, 0.01)  # a failing stable explains some


def test_null_maximum_matches_a_grid_search_over_the_stable_rate() -> None:
    for counts in [(12, 100, 3, 900, 0.01), (5, 40, 0, 400, 0.0), (30, 60, 20, 500, 0.05)]:
        ce, cn, se, sn, tolerance = counts
        grid = (i / 100_000 for i in range(0, 100_000))
        brute = max(
            _log_likelihood(ce, cn, min(t + tolerance, 1.0)) + _log_likelihood(se, sn, t)
            for t in grid
            if t + tolerance <= 1
        )
        assert log_null_maximum(*counts) == pytest.approx(brute, abs=1e-3)
        assert log_null_maximum(*counts) >= brute - 1e-9  # never below: the search finds the true maximum


def test_alpha_budget_never_spends_more_than_alpha_however_many_operations_appear() -> None:
    declared = ("GET /a", "GET /b", "POST /a")
    budget = AlphaBudget(0.01, declared)
    spent = 0.0
    for metric in (SERVER, CLIENT, LATENCY):
        spent += budget.for_test(metric, ALL_OPERATIONS)
        for operation in declared + tuple(f"GET /undeclared/{i}" for i in range(500)):
            spent += budget.for_test(metric, operation)
    assert spent <= 0.01
    assert budget.for_test(SERVER, ALL_OPERATIONS) == pytest.approx(0.003)


def test_settings_from_the_yaml_section_with_the_diffs_operations() -> None:
    settings = settings_from_config(
        CanaryConfig(interval=15.0), touched_operations=["GET /orders/{id}"], operations=["GET /orders/{id}"]
    )
    assert settings.interval_s == 15.0
    assert settings.steps == (10, 50, 100)
    assert settings.touched_operations == ("GET /orders/{id}",)
    from_mapping = settings_from_config({"max_wait": 90, "traffic": "generated", "alpha": 0.05, "rps": 100})
    assert (from_mapping.max_wait_s, from_mapping.alpha) == (90, 0.05)  # keys the engine does not use are ignored


def test_settings_refuse_what_cannot_be_judged() -> None:
    with pytest.raises(ValueError, match="alpha"):
        CanarySettings(alpha=0)
    with pytest.raises(ValueError, match="max_wait_s"):
        CanarySettings(interval_s=60, max_wait_s=30)


def _record(server: str, status: int, termination: str = "----", total_ms: int | None = 12) -> AccessRecord:
    return AccessRecord(1.0, "fe", "shop", server, status, 0, 0, 0, total_ms and 10, total_ms, 100, 50,
                        termination, 0, "GET", "/orders/1")  # fmt: skip


def test_access_log_records_become_observations_of_either_arm() -> None:
    broken = observation_from_record(_record("canary", 502, "SH--", None), operation="GET /orders/{id}",
                                     canary_server="canary", stable_server="stable", canary_share=0.1)  # fmt: skip
    assert broken is not None and broken.arm == "canary" and broken.server_error and broken.latency_ms is None
    missing = observation_from_record(_record("stable", 404), operation="GET /orders/{id}", canary_server="canary",
                                      stable_server="stable", canary_share=0.1)  # fmt: skip
    assert missing is not None and missing.arm == "stable" and missing.client_error and not missing.server_error
    assert missing.latency_ms == 12.0
    gone = observation_from_record(_record("stable", 200, "CD--"), operation="GET /orders/{id}",
                                   canary_server="canary", stable_server="stable", canary_share=0.1)  # fmt: skip
    assert gone is not None and not gone.server_error  # the client went away: not the release's failure
    other = observation_from_record(_record("old", 200), operation="GET /orders/{id}", canary_server="canary",
                                    stable_server="stable", canary_share=0.1)  # fmt: skip
    assert other is None
