"""The analysis' answers as plain dataclasses: verdicts, the failing test, and tables per step and operation.

`dataclasses.asdict` turns any of them into JSON-ready dicts (floats, strings, lists; inf stays a float:
dump with allow_nan or map it); the Dagster layer renders the rows as Markdown tables.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import Enum
from typing import Any


class Decision(str, Enum):
    PASS = "pass"  # the current step passed: advance (or promote after the last step)
    FAIL = "fail"  # a significant regression: roll back now
    CONTINUE = "continue"  # keep the weights and keep judging
    INSUFFICIENT_DATA = "insufficient data"  # max_wait passed without enough evidence: roll back


@dataclass(frozen=True)
class Finding:
    """A test that failed the canary, with what the reason cites."""

    metric: str  # "server errors", "client errors" or "latency"
    operation: str  # an operation id or "all operations"
    time: float
    step: int  # percent of the step in which it failed
    canary_value: str  # e.g. "10.0% (12 of 120)" or "p95 2,300 ms"
    stable_value: str
    statistic: str  # e.g. "e-value 412 >= 1/α = 333" or "Mann-Whitney z=9.1, p=1e-19 < α 0.0006"
    alpha: float
    reason: str
    numbers: dict[str, Any] = field(default_factory=dict)  # the raw values behind the texts


@dataclass(frozen=True)
class Verdict:
    decision: Decision
    reason: str
    time: float
    step: int | None  # percent of the current step (None before the first)
    final: bool  # the decision closes the analysis: a failure, insufficient data, or the last step passed
    canary_requests: int  # in the whole analysis
    stable_requests: int
    step_canary_requests: int
    finding: Finding | None = None
    waiting_for: tuple[str, ...] = ()  # what a step still needs before it can pass

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ArmStats:
    requests: int
    server_errors: int
    client_errors: int
    server_error_rate: float | None
    client_error_rate: float | None
    p50_ms: float | None
    p95_ms: float | None


@dataclass(frozen=True)
class OperationEvidence:
    operation: str
    canary: ArmStats
    stable: ArmStats
    p50_ratio: float | None  # canary / stable
    p95_ratio: float | None
    hl_shift_ms: float | None  # Hodges-Lehmann canary - stable over this row's latencies
    hl_low_ms: float | None  # its 95% confidence interval
    hl_high_ms: float | None
    server_error_e_value: float  # the decision statistics, over the analysis up to this row's time
    client_error_e_value: float
    latency_z: float | None  # the last latency look (None: no look yet)
    latency_p: float | None
    latency_alpha: float | None
    verdict: str  # "ok", "fail", "too few requests" (a touched operation below its minimum)
    reason: str = ""


@dataclass(frozen=True)
class StepEvidence:
    percent: int  # 0: requests before the first step (the stable's baseline)
    started_at: float
    ended_at: float | None  # None: still running
    verdict: str  # "pass", "fail", "insufficient data", "running"
    reason: str
    operations: tuple[OperationEvidence, ...]  # "all operations" first


@dataclass(frozen=True)
class AnalysisEvidence:
    verdict: Verdict
    steps: tuple[StepEvidence, ...]
    overall: tuple[OperationEvidence, ...]  # the whole analysis, per operation ("all operations" first)
    alpha: float
    budget: dict[str, float]  # test name: the alpha it spends

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)
