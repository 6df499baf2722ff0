"""Rows of the evidence tables: one per operation (and "all operations") for a step or the whole analysis."""

from __future__ import annotations

import math
from dataclasses import dataclass

from apiops_pipelines.delivery.canary_analysis.evidence import ArmStats, OperationEvidence
from apiops_pipelines.delivery.canary_analysis.latency_test import LatencyLook
from apiops_pipelines.delivery.canary_analysis.observation import CANARY, STABLE, Arm
from apiops_pipelines.delivery.canary_analysis.samples import ArmData
from apiops_pipelines.delivery.canary_analysis.shift_estimate import hodges_lehmann


@dataclass(frozen=True)
class Statistics:
    """The decision statistics of one operation at some moment (a step's end, or now)."""

    server_log_e: float = 0.0
    client_log_e: float = 0.0
    last_look: LatencyLook | None = None
    verdict: str = "ok"
    reason: str = ""


def arm_stats(data: ArmData | None) -> ArmStats:
    if data is None:
        return ArmStats(0, 0, 0, None, None, None, None)
    tally = data.tally
    return ArmStats(
        tally.requests, tally.server_errors, tally.client_errors, tally.server_error_rate,
        tally.client_error_rate, data.latencies.quantile(0.5), data.latencies.quantile(0.95),
    )  # fmt: skip


def _ratio(canary: float | None, stable: float | None) -> float | None:
    if canary is None or stable is None:
        return None
    if stable == 0:
        return math.inf if canary > 0 else 1.0
    return canary / stable


def operation_row(operation: str, arms: dict[Arm, ArmData], statistics: Statistics) -> OperationEvidence:
    canary, stable = arm_stats(arms.get(CANARY)), arm_stats(arms.get(STABLE))
    shift = low = high = None
    if CANARY in arms and STABLE in arms and len(arms[CANARY].latencies) and len(arms[STABLE].latencies):
        estimate = hodges_lehmann(arms[CANARY].latencies.sorted(), arms[STABLE].latencies.sorted())
        shift, low, high = estimate.shift, estimate.low, estimate.high
    look = statistics.last_look
    return OperationEvidence(
        operation, canary, stable, _ratio(canary.p50_ms, stable.p50_ms), _ratio(canary.p95_ms, stable.p95_ms),
        shift, low, high, _e(statistics.server_log_e), _e(statistics.client_log_e),
        look.z if look else None, look.p if look else None, look.alpha if look else None,
        statistics.verdict, statistics.reason,
    )  # fmt: skip


def _e(log_e: float) -> float:
    return math.exp(min(log_e, 700.0))
