"""The canary judgement: feed requests as they arrive, ask for a verdict whenever you like.

    analysis = Analysis(CanarySettings(touched_operations=("GET /orders/{id}",)))
    analysis.start_step(10, now)
    for observation in requests:          # both arms, in arrival order
        analysis.observe(observation)
    verdict = analysis.judge(now)         # pass / fail / continue / insufficient data
    if verdict.decision is Decision.PASS and not verdict.final:
        analysis.start_step(50, now)

observe() is O(1): counts, and the error e-processes checked at every request (a failure is kept with the
request that crossed). judge() runs the latency looks that came due, then the step's conditions. All
statistics are over the whole analysis (every step); tables per step are evidence. Requests observed before
the first step count as the stable's baseline. See the package docstring for the guarantees.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from apiops_pipelines.delivery.canary_analysis.alpha_budget import (ALL_OPERATIONS, CLIENT, LATENCY, SERVER,
                                                                    AlphaBudget)  # fmt: skip
from apiops_pipelines.delivery.canary_analysis.error_rate_test import ErrorRateTest
from apiops_pipelines.delivery.canary_analysis.evidence import (AnalysisEvidence, Decision, Finding, StepEvidence,
                                                                Verdict)  # fmt: skip
from apiops_pipelines.delivery.canary_analysis.evidence_tables import Statistics, operation_row
from apiops_pipelines.delivery.canary_analysis.latency_test import LatencyLook, LatencyTest
from apiops_pipelines.delivery.canary_analysis.observation import CANARY, STABLE, Arm, Observation
from apiops_pipelines.delivery.canary_analysis.reasons import error_reason, latency_reason
from apiops_pipelines.delivery.canary_analysis.samples import ArmData
from apiops_pipelines.delivery.canary_analysis.settings import CanarySettings

Table = dict[str, dict[Arm, ArmData]]  # operation (or ALL_OPERATIONS): arm: data


@dataclass
class _Step:
    percent: int
    started_at: float
    ended_at: float | None = None
    verdict: str = "running"
    reason: str = ""
    data: Table = field(default_factory=dict)
    statistics: dict[str, Statistics] | None = None  # frozen when the step ends


@dataclass
class _Tests:
    server: ErrorRateTest
    client: ErrorRateTest
    latency: LatencyTest


def _add(table: Table, key: str, observation: Observation) -> None:
    table.setdefault(key, {}).setdefault(observation.arm, ArmData()).add(observation)


class Analysis:
    def __init__(self, settings: CanarySettings | None = None) -> None:
        self.settings = settings or CanarySettings()
        self.budget = AlphaBudget(self.settings.alpha, self.settings.operations)
        self._tests: dict[str, _Tests] = {}
        self._data: Table = {}
        self._steps: list[_Step] = [_Step(0, float("-inf"))]  # the baseline, before the first step
        self._finding: Finding | None = None
        self._closed: Verdict | None = None  # a final verdict is final

    # -- feeding -----------------------------------------------------------------------------------------
    def observe(self, observation: Observation) -> None:
        step = self._steps[-1]
        if step.started_at == float("-inf"):
            step.started_at = observation.time  # the baseline starts with its first request
        canary = observation.arm == CANARY
        keys = (ALL_OPERATIONS,) if observation.operation == ALL_OPERATIONS else (ALL_OPERATIONS, observation.operation)
        for key in keys:
            _add(self._data, key, observation)
            _add(step.data, key, observation)
            tests = self._tests_of(key)
            for test, error in ((tests.server, observation.server_error), (tests.client, observation.client_error)):
                if test.add(canary, error, observation.time) and self._finding is None:
                    canary_value, stable_value, statistic, reason = error_reason(test)
                    self._finding = Finding(
                        test.metric, key, observation.time, step.percent, canary_value, stable_value, statistic,
                        test.alpha, reason, {"counts": test.failed_counts, "log_e": test.failed_log_e},
                    )  # fmt: skip

    def start_step(self, percent: int, now: float) -> None:
        """The canary's weight is now `percent`: close the current step and judge the new one from here."""
        current = self._steps[-1]
        if percent not in self.settings.steps or percent <= current.percent:
            raise ValueError(f"step {percent}% is not the next of the steps {list(self.settings.steps)}")
        if current.percent:
            current.ended_at = now
            current.statistics = self._statistics()
            if current.verdict == "running":
                current.verdict = "ended"
        self._steps.append(_Step(percent, now))

    # -- judging -----------------------------------------------------------------------------------------
    def judge(self, now: float) -> Verdict:
        if self._closed is not None:
            return self._closed
        finding = self._finding or self._latency_looks(now)
        if finding is not None:
            return self._close(Decision.FAIL, finding.reason, now, finding)
        step, settings = self._steps[-1], self.settings
        if not step.percent:
            return self._verdict(Decision.CONTINUE, "no step started yet", now)
        elapsed = now - step.started_at
        step_canary = self._requests(step.data, ALL_OPERATIONS, CANARY)
        waiting = []
        if elapsed < settings.interval_s:
            waiting.append(f"{settings.interval_s - elapsed:.0f} s more of the {settings.interval_s:g} s interval")
        if step_canary < settings.min_requests:
            waiting.append(f"{step_canary:,} of {settings.min_requests:,} canary requests in step {step.percent}%")
        for operation in settings.touched_operations:
            seen = self._requests(self._data, operation, CANARY)
            if seen < settings.min_touched_requests:
                waiting.append(f"{operation} (touched by the change): {seen} of {settings.min_touched_requests} "
                               "canary requests")  # fmt: skip
        if not waiting:
            step.verdict = "pass"
            step.reason = (f"step {step.percent}%: {step_canary:,} canary requests in {elapsed:.0f} s, "
                           "no significant regression")  # fmt: skip
            if step.percent == settings.last_step:
                return self._close(Decision.PASS, step.reason, now)
            return self._verdict(Decision.PASS, step.reason, now)
        if elapsed >= settings.max_wait_s:
            missing = "; ".join(w for w in waiting if "interval" not in w)
            reason = f"step {step.percent}%: not enough evidence after {elapsed:.0f} s (max_wait): {missing}"
            return self._close(Decision.INSUFFICIENT_DATA, reason, now)
        return self._verdict(Decision.CONTINUE, "waiting for " + "; ".join(waiting), now, tuple(waiting))

    def _latency_looks(self, now: float) -> Finding | None:
        for key, tests in self._tests.items():
            arms = self._data.get(key, {})
            if CANARY not in arms or STABLE not in arms:
                continue
            canary, stable = arms[CANARY].latencies, arms[STABLE].latencies
            if tests.latency.due(len(canary), len(stable)):
                look = tests.latency.look(canary, stable, now)
                if look.failed:
                    return self._latency_finding(key, look, tests.latency.alpha)
        return None

    def _latency_finding(self, key: str, look: LatencyLook, alpha: float) -> Finding:
        canary_value, stable_value, statistic, reason = latency_reason(key, look, self.settings.max_latency_ratio)
        if key == ALL_OPERATIONS:  # the pooled test can decide first: still say which operation slowed down
            reason += self._slowest_operation()
        numbers = {"z": look.z, "p": look.p, "alpha_look": look.alpha, "alpha_test": alpha, "look": look.index,
                   "median_ratio": look.median_ratio, "shift": look.shift}  # fmt: skip
        return Finding(LATENCY, key, look.time, self._steps[-1].percent, canary_value, stable_value, statistic,
                       look.alpha, reason, numbers)  # fmt: skip

    def _slowest_operation(self) -> str:
        """`; slowest: GET /x: median 42 vs 21 ms (2.00x)` over the operations with enough latencies of both arms."""
        worst: tuple[float, str, float, float] | None = None
        for key, arms in self._data.items():
            if key == ALL_OPERATIONS or CANARY not in arms or STABLE not in arms:
                continue
            canary, stable = arms[CANARY].latencies, arms[STABLE].latencies
            if len(canary) < 10 or len(stable) < 10:
                continue
            canary_median, stable_median = canary.quantile(0.5), stable.quantile(0.5)
            if canary_median is None or not stable_median:
                continue
            ratio = canary_median / stable_median
            if worst is None or ratio > worst[0]:
                worst = (ratio, key, canary_median, stable_median)
        if worst is None:
            return ""
        ratio, key, canary_median, stable_median = worst
        return f"; slowest: {key}: median {canary_median:,.0f} vs {stable_median:,.0f} ms ({ratio:.2f}x)"

    def _verdict(self, decision: Decision, reason: str, now: float, waiting: tuple[str, ...] = (),
                 finding: Finding | None = None, final: bool = False) -> Verdict:  # fmt: skip
        step = self._steps[-1]
        return Verdict(
            decision, reason, now, step.percent or None, final, self._requests(self._data, ALL_OPERATIONS, CANARY),
            self._requests(self._data, ALL_OPERATIONS, STABLE), self._requests(step.data, ALL_OPERATIONS, CANARY),
            finding, waiting,
        )  # fmt: skip

    def _close(self, decision: Decision, reason: str, now: float, finding: Finding | None = None) -> Verdict:
        step = self._steps[-1]
        step.verdict, step.reason = decision.value, reason
        step.ended_at, step.statistics = now, self._statistics()
        self._closed = self._verdict(decision, reason, now, finding=finding, final=True)
        return self._closed

    # -- bookkeeping -------------------------------------------------------------------------------------
    def _tests_of(self, key: str) -> _Tests:
        tests = self._tests.get(key)
        if tests is None:
            s, budget = self.settings, self.budget
            tests = self._tests[key] = _Tests(
                ErrorRateTest(SERVER, key, budget.for_test(SERVER, key), s.max_error_rate_increase),
                ErrorRateTest(CLIENT, key, budget.for_test(CLIENT, key), s.max_error_rate_increase),
                LatencyTest(key, budget.for_test(LATENCY, key), s.max_latency_ratio, s.min_latency_delta_ms,
                            s.latency_first_look, s.latency_min_stable),
            )  # fmt: skip
        return tests

    @staticmethod
    def _requests(table: Table, key: str, arm: Arm) -> int:
        data = table.get(key, {}).get(arm)
        return data.tally.requests if data else 0

    def _statistics(self) -> dict[str, Statistics]:
        finding, touched = self._finding, self.settings.touched_operations
        result = {}
        for key, tests in self._tests.items():
            verdict, reason = "ok", ""
            if finding is not None and finding.operation == key:
                verdict, reason = "fail", finding.reason
            elif tests.latency.failure is not None:
                verdict = "fail"
                reason = latency_reason(key, tests.latency.failure, self.settings.max_latency_ratio)[3]
            elif key in touched and self._requests(self._data, key, CANARY) < self.settings.min_touched_requests:
                verdict = "too few requests"
            last_look = tests.latency.looks[-1] if tests.latency.looks else None
            result[key] = Statistics(tests.server.log_e(), tests.client.log_e(), last_look, verdict, reason)
        return result

    # -- evidence ----------------------------------------------------------------------------------------
    def evidence(self, now: float) -> AnalysisEvidence:
        """Tables per step and for the whole analysis.

        Each row computes its Hodges-Lehmann interval: call at a step's end or on failure, not per request.
        """
        current = self._statistics()
        steps = []
        for step in self._steps:
            if not step.data:
                continue
            statistics = step.statistics or current
            rows = tuple(operation_row(key, step.data[key], statistics.get(key, Statistics()))
                         for key in self._ordered(step.data))  # fmt: skip
            steps.append(StepEvidence(step.percent, step.started_at, step.ended_at, step.verdict, step.reason, rows))
        overall = tuple(operation_row(key, self._data[key], current.get(key, Statistics()))
                        for key in self._ordered(self._data))  # fmt: skip
        budget = {}
        for key, tests in self._tests.items():
            for test in (tests.server, tests.client, tests.latency):
                name = test.metric if isinstance(test, ErrorRateTest) else LATENCY
                budget[f"{name}: {key}"] = test.alpha
        return AnalysisEvidence(self.judge(now), tuple(steps), overall, self.settings.alpha, budget)

    @staticmethod
    def _ordered(table: Table) -> list[str]:
        """"all operations" first, then by name; nothing at all before the first request."""
        rest = sorted(key for key in table if key != ALL_OPERATIONS)
        return ([ALL_OPERATIONS] if ALL_OPERATIONS in table else []) + rest
