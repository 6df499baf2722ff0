"""What an evidence row and a step heading say, in text, and which rows a table shows first: one source for
the Markdown and the HTML, so both always say the same.

Order: "all operations", then the operations that failed, then touched operations short of their minimum,
then the other operations the spec diff touched, then the rest by canary requests (the busiest carry the
most evidence). A cap keeps the first rows of that order, so a table of 100 operations still opens on what
decided the verdict.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from apiops_pipelines.delivery.canary_analysis.alpha_budget import ALL_OPERATIONS, CLIENT, SERVER
from apiops_pipelines.delivery.canary_analysis.evidence import ArmStats, OperationEvidence, StepEvidence
from apiops_pipelines.delivery.canary_report import formatting as fmt

Pair = tuple[str, str]  # (canary, stable)


@dataclass(frozen=True)
class RowText:
    operation: str  # raw: the spec's text, escaped by whoever renders it
    requests: Pair
    server_errors: Pair  # "12 (10.0%)"
    client_errors: Pair
    p50_ms: Pair
    p95_ms: Pair
    p95_ratio: str
    shift_ms: str  # Hodges-Lehmann canary - stable, with its 95% interval
    server_e: str  # e-value / the value that fails the canary
    client_e: str
    latency: str  # the last Mann-Whitney look
    verdict: str
    reason: str


def _pair(canary: ArmStats, stable: ArmStats, attribute: str) -> Pair:
    if attribute == "requests":
        return fmt.count(canary.requests), fmt.count(stable.requests)
    if attribute in ("server_errors", "client_errors"):
        return (fmt.count_rate(getattr(canary, attribute), canary.requests),
                fmt.count_rate(getattr(stable, attribute), stable.requests))  # fmt: skip
    return fmt.ms(getattr(canary, attribute)), fmt.ms(getattr(stable, attribute))


def row_text(row: OperationEvidence, budget: Mapping[str, float]) -> RowText:
    c, s = row.canary, row.stable
    return RowText(
        row.operation, _pair(c, s, "requests"), _pair(c, s, "server_errors"), _pair(c, s, "client_errors"),
        _pair(c, s, "p50_ms"), _pair(c, s, "p95_ms"), fmt.ratio(row.p95_ratio),
        fmt.shift_with_interval(row.hl_shift_ms, row.hl_low_ms, row.hl_high_ms),
        fmt.e_value(row.server_error_e_value, budget.get(f"{SERVER}: {row.operation}")),
        fmt.e_value(row.client_error_e_value, budget.get(f"{CLIENT}: {row.operation}")),
        fmt.mann_whitney(row.latency_z, row.latency_p, row.latency_alpha), row.verdict, row.reason,
    )  # fmt: skip


def _rank(row: OperationEvidence, touched: Collection[str]) -> int:
    if row.verdict == "fail":
        return 0
    if row.verdict == "too few requests":
        return 1
    return 2 if row.operation in touched else 3


def ordered_rows(rows: Sequence[OperationEvidence], *, touched: Collection[str] = (),
                 max_rows: int | None = None) -> tuple[list[OperationEvidence], int]:  # fmt: skip
    """(the rows to show, how many operations were left out).

    "all operations" always comes first and does not count against `max_rows`, which caps the operations
    below it (None: no cap).
    """
    pooled = [r for r in rows if r.operation == ALL_OPERATIONS]
    operations = sorted((r for r in rows if r.operation != ALL_OPERATIONS),
                        key=lambda r: (_rank(r, touched), -r.canary.requests, r.operation))  # fmt: skip
    hidden = 0
    if max_rows is not None and len(operations) > max(max_rows, 0):
        hidden = len(operations) - max(max_rows, 0)
        operations = operations[: max(max_rows, 0)]
    return pooled + operations, hidden


def step_heading(step: StepEvidence, started_at: float) -> str:
    name = f"Step {step.percent}%" if step.percent else "Baseline (before the first step)"
    end = "running" if step.ended_at is None else fmt.since(step.ended_at, started_at)
    length = "" if step.ended_at is None else f", {fmt.duration(step.ended_at - step.started_at)}"
    return f"{name}: {step.verdict} ({fmt.since(step.started_at, started_at)} to {end}{length})"
