"""Drive a judge through a canary release over a stream: the steps, the weights, the decision.

The same loop the canary_release asset runs on the real gateway, minus the gateway: a passed step raises
the canary's weight (which a simulated stream routes by), a failure or insufficient data ends the release.
The judge is asked after every request, and on a clock while no request comes, so silence still reaches
max_wait.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from apiops_pipelines.delivery.canary_analysis.evidence import Decision, Finding, Verdict
from apiops_pipelines.delivery.canary_analysis.observation import CANARY, Observation
from apiops_pipelines.delivery.canary_analysis.simulation import StreamSource


class Judge(Protocol):
    def observe(self, observation: Observation) -> None: ...
    def judge(self, now: float) -> Verdict: ...
    def start_step(self, percent: int, now: float) -> None: ...


@dataclass(frozen=True)
class RunOutcome:
    decision: Decision  # PASS: promoted; FAIL / INSUFFICIENT_DATA: rolled back; CONTINUE: the stream ended first
    time_s: float  # from the first step to the decision
    canary_requests: int  # routed to the canary until the decision
    requests: int
    step: int  # the step the decision was taken in
    reason: str
    finding: Finding | None = None
    operation_canary_requests: dict[str, int] | None = None  # per operation, until the decision


def run_canary(source: StreamSource, judge: Judge, steps: Sequence[int], *, start: float = 0.0,
               tick_s: float = 1.0) -> RunOutcome:  # fmt: skip
    index, share = 0, [steps[0] / 100]
    judge.start_step(steps[0], start)
    canary = total = 0
    per_operation: dict[str, int] = {}
    next_tick = start + tick_s

    def settle(verdict: Verdict, now: float) -> RunOutcome | None:
        nonlocal index
        if verdict.decision is Decision.CONTINUE:
            return None
        if verdict.decision is Decision.PASS and not verdict.final and index + 1 < len(steps):
            index += 1
            share[0] = steps[index] / 100
            judge.start_step(steps[index], now)
            return None
        return RunOutcome(verdict.decision, now - start, canary, total, steps[index], verdict.reason,
                          verdict.finding, dict(per_operation))  # fmt: skip

    now = start
    for observation in source.requests(lambda: share[0]):
        while next_tick <= observation.time:
            if outcome := settle(judge.judge(next_tick), next_tick):
                return outcome
            next_tick += tick_s
        now = observation.time
        judge.observe(observation)
        total += 1
        if observation.arm == CANARY:
            canary += 1
            per_operation[observation.operation] = per_operation.get(observation.operation, 0) + 1
        if outcome := settle(judge.judge(now), now):
            return outcome
    return RunOutcome(Decision.CONTINUE, now - start, canary, total, steps[index], "the stream ended first",
                      None, dict(per_operation))  # fmt: skip
