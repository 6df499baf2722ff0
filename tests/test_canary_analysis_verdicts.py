"""The canary judgement's verdicts: steps, minimums, max_wait, failures that name what failed; Flagger's rule."""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator

import pytest

from apiops_pipelines.delivery.canary_analysis import (ALL_OPERATIONS, CANARY, DEFAULT_OPERATIONS, LATENCY,
                                                       SERVER, STABLE, Analysis, CanarySettings, Decision, Fault,
                                                       FlaggerRule, Observation, RecordedStream, SimulatedStream,
                                                       run_canary)  # fmt: skip

OPERATIONS = tuple(profile.operation for profile in DEFAULT_OPERATIONS)


def _settings(**overrides: object) -> CanarySettings:
    values: dict = {"interval_s": 15.0, "operations": OPERATIONS, "touched_operations": ("GET /orders/{id}",)}
    values.update(overrides)
    return CanarySettings(**values)


def _feed(analysis: Analysis, start: float, seconds: float, rps: float, share: float,
          operation: str = "GET /orders") -> None:  # fmt: skip
    """Requests at a steady pace, every 1/share-th on the canary, all fine and equally fast."""
    rng = random.Random(int(start * 1000) + len(operation))
    count = int(seconds * rps)
    every = round(1 / share)
    for i in range(count):
        arm = CANARY if i % every == 0 else STABLE
        analysis.observe(Observation(start + i / rps, arm, operation, 200, float(rng.randint(8, 12)), False, share))


def test_a_step_cannot_pass_before_its_interval() -> None:
    analysis = Analysis(_settings(interval_s=30.0, min_requests=10, touched_operations=()))
    analysis.start_step(10, 0.0)
    _feed(analysis, 0.0, 5.0, 200, 0.1)
    early = analysis.judge(5.0)
    assert early.decision is Decision.CONTINUE
    assert "interval" in early.reason and early.step_canary_requests == 100
    later = analysis.judge(30.0)
    assert later.decision is Decision.PASS and not later.final


def test_too_few_canary_requests_by_max_wait_is_insufficient_data() -> None:
    analysis = Analysis(_settings(interval_s=10.0, max_wait_s=20.0, touched_operations=()))
    analysis.start_step(10, 0.0)
    _feed(analysis, 0.0, 0.25, 200, 0.1)  # 5 canary requests
    assert analysis.judge(19.0).decision is Decision.CONTINUE
    verdict = analysis.judge(20.0)
    assert verdict.decision is Decision.INSUFFICIENT_DATA and verdict.final
    assert "5 of 300 canary requests" in verdict.reason
    assert analysis.judge(25.0) == verdict  # a rollback stays a rollback


def test_a_touched_operation_below_its_minimum_blocks_a_pass() -> None:
    analysis = Analysis(_settings(interval_s=10.0, max_wait_s=30.0, min_requests=50,
                                  touched_operations=("DELETE /orders/{id}",)))  # fmt: skip
    analysis.start_step(10, 0.0)
    _feed(analysis, 0.0, 10.0, 100, 0.1)
    _feed(analysis, 10.0, 0.25, 200, 0.1, operation="DELETE /orders/{id}")  # 5 of them on the canary
    waiting = analysis.judge(10.5)
    assert waiting.decision is Decision.CONTINUE
    assert any("DELETE /orders/{id} (touched by the change): 5 of 20" in w for w in waiting.waiting_for)
    verdict = analysis.judge(30.0)
    assert verdict.decision is Decision.INSUFFICIENT_DATA
    assert "DELETE /orders/{id}" in verdict.reason


def test_a_clean_canary_passes_every_step_and_promotes() -> None:
    settings = _settings()
    outcome = run_canary(SimulatedStream(3), Analysis(settings), settings.steps)
    assert outcome.decision is Decision.PASS and outcome.step == 100
    assert outcome.time_s < 60  # simulated seconds: three 15 s steps and the time to 300 canary requests


def test_ten_percent_5xx_on_the_canary_fails_and_names_the_metric() -> None:
    settings = _settings()
    analysis = Analysis(settings)
    outcome = run_canary(SimulatedStream(1, Fault(server_error_rate=0.10)), analysis, settings.steps)
    assert outcome.decision is Decision.FAIL and outcome.step == 10
    assert outcome.finding is not None and outcome.finding.metric == SERVER
    assert "server errors" in outcome.reason and "on the canary vs" in outcome.reason and "e-value" in outcome.reason
    assert analysis.judge(outcome.time_s + 100).finding == outcome.finding  # the failure stays


def test_2x_latency_on_one_operation_fails_and_names_the_operation() -> None:
    settings = _settings()
    analysis = Analysis(settings)
    outcome = run_canary(SimulatedStream(2, Fault(latency_factor=2.0, operation="GET /orders")), analysis,
                         settings.steps)  # fmt: skip
    assert outcome.decision is Decision.FAIL
    finding = outcome.finding
    assert finding is not None and (finding.metric, finding.operation) == (LATENCY, "GET /orders")
    assert outcome.reason.startswith("GET /orders: p95 ")
    assert "HL shift +" in outcome.reason and "Mann-Whitney z=" in outcome.reason

    evidence = analysis.evidence(outcome.time_s)
    json.dumps(evidence.as_dict(), default=str)  # the Dagster layer stores it as JSON metadata
    assert evidence.steps[0].percent == 10 and evidence.steps[0].operations[0].operation == ALL_OPERATIONS
    slow = next(row for row in evidence.overall if row.operation == "GET /orders")
    assert slow.verdict == "fail" and slow.hl_shift_ms is not None and slow.hl_shift_ms > 5
    assert slow.p50_ratio is not None and slow.p50_ratio > 1.5
    assert sum(evidence.budget.values()) <= 0.01


class _SubMillisecondSlower:
    """The canary 3x slower, but 0.3 ms against 0.9 ms: significant, and nothing a user could notice."""

    def requests(self, share: Callable[[], float]) -> Iterator[Observation]:
        rng, credit, time = random.Random(9), 0, 0.0
        while time < 300:
            time += 0.005
            percent = round(100 * share())
            credit += percent
            canary = credit >= 100
            credit -= 100 if canary else 0
            latency = rng.uniform(0.8, 1.0) if canary else rng.uniform(0.2, 0.4)
            yield Observation(time, CANARY if canary else STABLE, "GET /health", 200, latency, False, percent / 100)


def test_sub_millisecond_slowdowns_never_fail_a_canary() -> None:
    settings = _settings(touched_operations=(), operations=("GET /health",))
    analysis = Analysis(settings)
    outcome = run_canary(_SubMillisecondSlower(), analysis, settings.steps)
    assert outcome.decision is Decision.PASS and outcome.step == 100
    row = next(r for r in analysis.evidence(outcome.time_s).overall if r.operation == "GET /health")
    assert row.latency_p is not None and row.latency_alpha is not None and row.latency_p < row.latency_alpha
    assert row.hl_shift_ms is not None and 0 < row.hl_shift_ms < 1


def test_steps_only_move_forward_through_the_configured_steps() -> None:
    analysis = Analysis(_settings())
    with pytest.raises(ValueError, match="not the next"):
        analysis.start_step(30, 0.0)
    analysis.start_step(50, 0.0)
    with pytest.raises(ValueError, match="not the next"):
        analysis.start_step(10, 1.0)


def test_flagger_rule_rolls_back_after_five_failed_one_minute_checks() -> None:
    outcome = run_canary(SimulatedStream(1, Fault(server_error_rate=0.10)), FlaggerRule(), (10, 50, 100))
    assert outcome.decision is Decision.FAIL and outcome.time_s == 300.0 and outcome.step == 10
    assert outcome.reason.startswith("5 failed checks")


def test_flagger_rule_promotes_after_one_passed_check_per_step() -> None:
    outcome = run_canary(SimulatedStream(1), FlaggerRule(), (10, 50, 100))
    assert outcome.decision is Decision.PASS and outcome.time_s == 180.0


def test_flagger_rule_counts_a_window_without_canary_requests_as_a_failed_check() -> None:
    rule = FlaggerRule()
    rule.start_step(10, 0.0)
    verdict = rule.judge(60.0)
    assert verdict.decision is Decision.CONTINUE and "no canary requests" in verdict.reason
    assert rule.failed_checks == 1


def test_a_recorded_stream_replays_as_it_was_recorded() -> None:
    recorded = list(SimulatedStream(4, duration_s=2.0).requests(lambda: 0.1))
    replayed = list(RecordedStream(recorded).requests(lambda: 0.5))
    assert replayed == recorded and sum(o.arm == CANARY for o in replayed) == len(replayed) // 10


def test_evidence_with_no_request_at_all_is_an_empty_table_not_an_error():
    """Live traffic with nobody calling: the evidence of an insufficient-data verdict used to raise KeyError."""
    analysis = Analysis(CanarySettings(interval_s=1, max_wait_s=2))
    analysis.start_step(10, 0.0)
    evidence = analysis.evidence(5.0)
    assert evidence.verdict.decision is Decision.INSUFFICIENT_DATA
    assert evidence.overall == () and evidence.steps == ()


def test_a_pooled_latency_failure_still_names_the_slowest_operation() -> None:
    """The test over all operations looks when the operation's own does (both at 20 canary latencies) and is asked
    first: when it decides, the reason must still say which operation slowed down (seen in a real run)."""
    analysis = Analysis(CanarySettings(operations=("GET /a", "GET /b")))
    analysis.start_step(10, 0.0)
    rng, time = random.Random(4), 0.0
    for _ in range(200):  # the stable: GET /a about 20 ms
        time += 0.01
        analysis.observe(Observation(time, STABLE, "GET /a", 200, 20.0 * rng.uniform(0.9, 1.1), False, 0.1))
    verdict = analysis.judge(time)
    for _ in range(40):  # the canary: four times slower
        time += 0.01
        analysis.observe(Observation(time, CANARY, "GET /a", 200, 80.0 * rng.uniform(0.9, 1.1), False, 0.1))
        verdict = analysis.judge(time)
        if verdict.decision is Decision.FAIL:
            break
    assert verdict.decision is Decision.FAIL and verdict.finding.operation == ALL_OPERATIONS
    assert "; slowest: GET /a: median " in verdict.reason and "(4." in verdict.reason
