"""Flagger's builtin canary checks, replayed on our request streams: the peer the benchmark compares with.

Our reading of Flagger's documentation (docs.flagger.app, "Deployment Strategies" and "Metrics Analysis"):
every `interval` (60 s by default) Flagger queries the canary's metrics over the last minute:
request-success-rate (share of non-5xx responses, thresholdRange min 99) and request-duration (P99 in ms,
thresholdRange max 500). If every check passes, the canary advances to its next weight, and after the last
weight it is promoted: promotion takes interval x steps. If a check fails, advancement halts and the failed
checks counter goes up; when it reaches `threshold` (5 in the documented examples), Flagger routes all traffic
back to the primary: rollback takes interval x threshold. A window without canary requests returns no value,
which Flagger treats as a failed check. The counter is not reset by a passing check during one analysis.

Differences we accept: Flagger's P99 comes from Prometheus histogram buckets, ours is exact over the
window's requests; Flagger judges only the canary against fixed thresholds, never against the primary.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from apiops_pipelines.delivery.canary_analysis.evidence import Decision, Verdict
from apiops_pipelines.delivery.canary_analysis.observation import CANARY, Observation
from apiops_pipelines.delivery.canary_analysis.rank_stats import quantile


@dataclass(frozen=True)
class FlaggerSettings:
    steps: tuple[int, ...] = (10, 50, 100)
    interval_s: float = 60.0
    threshold: int = 5  # failed checks before rollback
    min_success_rate: float = 99.0  # percent of non-5xx canary responses
    max_p99_ms: float = 500.0


class FlaggerRule:
    """Same interface as Analysis (observe, judge, start_step), deciding only at Flagger's checks."""

    def __init__(self, settings: FlaggerSettings | None = None) -> None:
        self.settings = settings or FlaggerSettings()
        self.step: int | None = None
        self.failed_checks = 0
        self._next_check: float | None = None
        self._window: deque[tuple[float, bool, float | None]] = deque()  # canary: time, failed, latency
        self._canary = self._stable = self._step_canary = 0
        self._last: Verdict | None = None
        self.checks: list[tuple[float, int, float | None, float | None, bool]] = []  # time, step, rate, p99, ok

    def start_step(self, percent: int, now: float) -> None:
        self.step, self._step_canary = percent, 0
        if self._next_check is None:
            self._next_check = now + self.settings.interval_s

    def observe(self, observation: Observation) -> None:
        if observation.arm == CANARY:
            self._canary += 1
            self._step_canary += 1
            self._window.append((observation.time, observation.server_error, observation.latency_ms))
        else:
            self._stable += 1

    def judge(self, now: float) -> Verdict:
        if self._last is not None and self._last.final:
            return self._last
        verdict = self._verdict(Decision.CONTINUE, "waiting for the next check", now)
        while self._next_check is not None and now >= self._next_check:
            check_time = self._next_check
            self._next_check += self.settings.interval_s
            verdict = self._check(check_time)
            if verdict.decision is not Decision.CONTINUE:
                break  # a passed check moves the weight: the caller calls start_step before the next one
        self._last = verdict
        return verdict

    def _check(self, at: float) -> Verdict:
        s = self.settings
        while self._window and self._window[0][0] < at - s.interval_s:
            self._window.popleft()
        inside = [entry for entry in self._window if entry[0] < at]
        if inside:
            rate = 100.0 * sum(not failed for _, failed, _ in inside) / len(inside)
            p99 = quantile(sorted(latency for _, _, latency in inside if latency is not None), 0.99)
            ok = rate >= s.min_success_rate and (p99 is None or p99 <= s.max_p99_ms)
        else:
            rate, p99, ok = None, None, False  # no values: a failed check
        self.checks.append((at, self.step or 0, rate, p99, ok))
        described = f"success rate {rate:.2f}%" if rate is not None else "no canary requests"
        described += f", p99 {p99:.0f} ms" if p99 is not None else ""
        if ok:
            final = self.step == s.steps[-1]
            return self._verdict(Decision.PASS, f"check passed at step {self.step}%: {described}", at, final)
        self.failed_checks += 1
        if self.failed_checks >= s.threshold:
            return self._verdict(Decision.FAIL, f"{self.failed_checks} failed checks: {described}", at, True)
        return self._verdict(Decision.CONTINUE, f"check failed ({self.failed_checks}): {described}", at)

    def _verdict(self, decision: Decision, reason: str, now: float, final: bool = False) -> Verdict:
        return Verdict(decision, reason, now, self.step, final, self._canary, self._stable, self._step_canary)
