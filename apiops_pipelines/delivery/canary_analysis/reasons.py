"""The sentences of verdicts: numbers as an operator reads them (2,300 ms, 10.0%, p=1e-19)."""

from __future__ import annotations

import math

from apiops_pipelines.delivery.canary_analysis.error_rate_test import ErrorRateTest
from apiops_pipelines.delivery.canary_analysis.latency_test import LatencyLook


def ms(value: float | None, signed: bool = False) -> str:
    if value is None:
        return "-"
    if math.isinf(value):
        return "inf"
    sign = "+" if signed and value > 0 else ""
    if abs(value) >= 10:
        return f"{sign}{value:,.0f}"
    return f"{sign}{value:.1f}"


def percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}% ({part:,} of {whole:,})" if whole else "no requests"


def probability(p: float) -> str:
    return "0" if p == 0 else f"{p:.0e}" if p < 0.001 else f"{p:.3f}"


def small(alpha: float) -> str:
    return f"{alpha:.2g}"


def big(value: float) -> str:
    if math.isinf(value) or value > 1e15:
        return "> 1e15"
    return f"{value:,.0f}" if value >= 10 else f"{value:.2f}"


def error_reason(test: ErrorRateTest) -> tuple[str, str, str, str]:
    """(canary value, stable value, statistic, reason) of a failed error-rate test."""
    canary_errors, canary_n, stable_errors, stable_n = test.failed_counts
    canary, stable = percent(canary_errors, canary_n), percent(stable_errors, stable_n)
    e_value = math.exp(min(test.failed_log_e, 700))
    statistic = f"e-value {big(e_value)} >= 1/α = {big(1 / test.alpha)}, α {small(test.alpha)}"
    reason = (
        f"{test.operation}: {test.metric} {canary} on the canary vs {stable} on the stable, above the tolerated "
        f"+{100 * test.tolerance:.1f} points ({statistic})"
    )
    return canary, stable, statistic, reason


def latency_reason(operation: str, look: LatencyLook, max_ratio: float) -> tuple[str, str, str, str]:
    """(canary value, stable value, statistic, reason) of a failed latency look."""
    canary, stable = f"p95 {ms(look.canary_p95_ms)} ms", f"p95 {ms(look.stable_p95_ms)} ms"
    statistic = f"Mann-Whitney z={look.z:.1f}, p={probability(look.p)} < α {small(look.alpha)}"
    shift = look.shift
    shift_text = (
        f"HL shift {ms(shift.shift, signed=True)} ms, {shift.confidence:.0%} CI [{ms(shift.low)}, {ms(shift.high)}]"
        if shift else "HL shift -"
    )  # fmt: skip
    reason = (
        f"{operation}: {canary} on the canary vs {ms(look.stable_p95_ms)} ms on the stable, median "
        f"{ms(look.canary_p50_ms)} vs {ms(look.stable_p50_ms)} ms ({look.median_ratio:.2f}x, limit {max_ratio:g}x) "
        f"({shift_text}; {statistic})"
    )
    return canary, stable, statistic, reason
