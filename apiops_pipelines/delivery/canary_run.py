"""One canary, step by step: set the split, read what the gateway logged, let the analysis judge, act at once.

The loop polls the access log a few times a second, so a failing verdict cuts the canary's traffic well
within a second of the request that decided it. Every weight change is recorded with its time and reason.
Bounded: each step ends by `max_wait` at the latest (insufficient data), and the whole run by the sum of
them plus a margin, whatever the log holds. No Dagster and no platform here: the caller passes how to set
the weights and where the records come from, so the same loop runs on real HAProxy and in tests.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from apiops_pipelines.delivery.canary_analysis import (Analysis, AnalysisEvidence, CanarySettings, Decision, Verdict,
                                                       observation_from_record)  # fmt: skip
from apiops_pipelines.delivery.canary_report import StepBoundary, Timeline, WeightChange
from apiops_pipelines.delivery.operation_matcher import OperationMatcher
from apiops_pipelines.platform.access_log import AccessRecord

SetWeights = Callable[[int, int, str], None]  # canary weight, stable weight, why
ReadRecords = Callable[[], list[AccessRecord]]
POLL_S = 0.2
MARGIN_S = 30.0


@dataclass
class CanaryOutcome:
    verdict: Verdict
    timeline: Timeline
    evidence: AnalysisEvidence | None = None  # set when the run ends
    weight_changes: list[WeightChange] = field(default_factory=list)
    steps: list[StepBoundary] = field(default_factory=list)
    started_at: float = 0.0
    ended_at: float = 0.0
    cut_after_s: float | None = None  # from the failing verdict to the canary's weight at 0
    notes: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.verdict.decision is Decision.PASS and self.verdict.final


def time_limit(settings: CanarySettings) -> float:
    """The longest a canary may take: every step to its `max_wait`, and a margin. Its generated traffic stops by
    then too, so nothing runs past the canary even unattended."""
    return len(settings.steps) * settings.max_wait_s + MARGIN_S


@dataclass
class CanaryRun:
    api: str
    settings: CanarySettings
    canary_server: str
    stable_server: str
    matcher: OperationMatcher
    set_weights: SetWeights
    read_records: ReadRecords
    clock: Callable[[], float] = time.time
    sleep: Callable[[float], None] = time.sleep
    traffic_alive: Callable[[], bool] | None = None  # generated traffic: noted if it stops early
    on_progress: Callable[[str], None] = lambda _message: None
    _traffic_noted: bool = field(default=False, init=False, repr=False)

    def run(self) -> CanaryOutcome:
        settings, now = self.settings, self.clock()
        self._traffic_noted = False
        analysis, timeline = Analysis(settings), Timeline()
        outcome = CanaryOutcome(analysis.judge(now), timeline, started_at=now)
        deadline = now + time_limit(settings)
        for percent in settings.steps:
            self._weights(outcome, percent, 100 - percent, f"step {percent}%")
            now = self.clock()
            analysis.start_step(percent, now)
            outcome.steps.append(StepBoundary(now, percent))
            self.on_progress(f"{self.api}: canary at {percent}% of requests")
            verdict = self._judge_step(analysis, timeline, percent, deadline, outcome)
            if verdict.decision is not Decision.PASS:
                self._cut(outcome, verdict)
                break
            if verdict.final:
                break
        outcome.ended_at = self.clock()
        outcome.evidence = analysis.evidence(outcome.ended_at)
        return outcome

    def _judge_step(self, analysis: Analysis, timeline: Timeline, percent: int, deadline: float,
                    outcome: CanaryOutcome) -> Verdict:  # fmt: skip
        share = percent / 100
        while True:
            for record in self.read_records():
                if record.backend != self.api:
                    continue
                operation = self.matcher.operation(record.method, record.path)
                observation = observation_from_record(record, operation=operation, canary_server=self.canary_server,
                                                      stable_server=self.stable_server, canary_share=share)  # fmt: skip
                if observation is not None:
                    analysis.observe(observation)
                    timeline.add(observation)
            now = self.clock()
            verdict = analysis.judge(now)
            outcome.verdict = verdict
            if verdict.decision is not Decision.CONTINUE:
                return verdict
            if now >= deadline:  # the analysis' own max_wait should have decided: never loop past this
                return _forced_insufficient(verdict, now)
            if self.traffic_alive is not None and not self._traffic_noted and not self.traffic_alive():
                outcome.notes.append(f"generated traffic stopped early at {percent}% (see traffic.log)")
                self._traffic_noted = True  # once: the loop polls a few times a second, and it does not restart
            self.sleep(POLL_S)

    def _weights(self, outcome: CanaryOutcome, canary: int, stable: int, why: str) -> None:
        self.set_weights(canary, stable, why)
        outcome.weight_changes.append(WeightChange(self.clock(), canary, stable, why))

    def _cut(self, outcome: CanaryOutcome, verdict: Verdict) -> None:
        """The stable takes every request again; the canary gets none (it is drained and removed afterwards)."""
        self._weights(outcome, 0, 100, f"rollback: {verdict.decision.value}")
        outcome.cut_after_s = max(0.0, outcome.weight_changes[-1].time - verdict.time)


def _forced_insufficient(verdict: Verdict, now: float) -> Verdict:
    return replace(verdict, decision=Decision.INSUFFICIENT_DATA, final=True, time=now,
                   reason=f"no decision by the canary's time limit ({verdict.reason or 'still waiting'})")  # fmt: skip
