"""Is the canary slower than `max_latency_ratio` allows? Mann-Whitney at a bounded schedule of looks.

The null hypothesis for one operation (or all together) is that the canary's latency is stochastically at
most `max_latency_ratio` times the stable's: canary / ratio <=st stable. Dividing the canary's latencies by
the ratio and running the one-sided Mann-Whitney test is valid for it (the test only gets less likely to
reject as the canary gets faster), and ranks make it indifferent to the long tails of latencies.

Looks. A rank test is not anytime-valid, so it is only looked at when the canary's sample of that operation
reaches first_look * 1.5^(k-1) latencies (20, 30, 45, 68, 101, ... by default), look k at
alpha_k = alpha / (k (k + 1)): alpha/2, alpha/6, alpha/12, ... The looks' alphas sum to alpha, and when a
look happens depends only on how many requests arrived, never on their latencies; so by a union bound over
looks the test's false-alarm rate stays below its alpha however long the canary runs. A look that comes due
before the stable has `min_stable` latencies waits for them; looks skipped because judge() was called late
spend nothing (conservative).

Why this schedule: a regression is caught at the first look after its evidence suffices, so looks 1.5x
apart wait less than doubling ones, and the harmonic spending keeps more alpha for the later, larger looks
than halving does. On 2x latency against the 1.5x limit (sigma 0.45) the median detection went from 80
canary latencies of the operation (looks at 10, 20, 40, ... with alpha/2^k) to 45, the 95th percentile
from 160 to 101.

Failing needs more than significance: the Hodges-Lehmann shift (canary - stable) must be at least
`min_latency_delta_ms` and the canary's median more than `max_latency_ratio` times the stable's. Both only
make failing rarer, so validity is kept, and sub-millisecond differences can never fail a canary however
many requests make them significant.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from apiops_pipelines.delivery.canary_analysis.rank_stats import mann_whitney
from apiops_pipelines.delivery.canary_analysis.samples import LatencySample
from apiops_pipelines.delivery.canary_analysis.shift_estimate import ShiftEstimate, hodges_lehmann

LOOK_GROWTH = 1.5  # each look at 1.5x the canary latencies of the one before


@dataclass(frozen=True)
class LatencyLook:
    index: int  # k: 1 for the first look
    time: float
    canary_n: int
    stable_n: int
    alpha: float  # alpha_k of this look
    z: float
    p: float
    canary_p50_ms: float
    canary_p95_ms: float
    stable_p50_ms: float
    stable_p95_ms: float
    median_ratio: float  # canary median / stable median (inf when the stable's median is 0 and the canary's not)
    shift: ShiftEstimate | None  # computed when the look is significant (what a failure needs and cites)
    failed: bool


@dataclass
class LatencyTest:
    operation: str
    alpha: float
    max_ratio: float
    min_delta_ms: float
    first_look: int = 20
    min_stable: int = 20
    next_index: int = 1
    looks: list[LatencyLook] = field(default_factory=list)

    def look_size(self, index: int) -> int:
        return round(self.first_look * LOOK_GROWTH ** (index - 1))

    def look_alpha(self, index: int) -> float:
        return self.alpha / (index * (index + 1))

    def due(self, canary_n: int, stable_n: int) -> bool:
        return canary_n >= self.look_size(self.next_index) and stable_n >= self.min_stable

    @property
    def failure(self) -> LatencyLook | None:
        return self.looks[-1] if self.looks and self.looks[-1].failed else None

    def look(self, canary: LatencySample, stable: LatencySample, time: float) -> LatencyLook:
        """Run the look that is due (call only when due()); it is kept in `looks`."""
        index = self.next_index
        alpha_k = self.look_alpha(index)
        canary_sorted, stable_sorted = canary.sorted(), stable.sorted()
        scaled = [value / self.max_ratio for value in canary_sorted]  # still sorted: the ratio is positive
        test = mann_whitney(scaled, stable_sorted)
        canary_median, stable_median = canary.quantile(0.5) or 0.0, stable.quantile(0.5) or 0.0
        ratio = canary_median / stable_median if stable_median > 0 else (math.inf if canary_median > 0 else 1.0)
        significant = test.p_greater < alpha_k
        shift = hodges_lehmann(canary_sorted, stable_sorted) if significant else None
        failed = bool(
            significant and shift is not None and shift.shift >= self.min_delta_ms and ratio > self.max_ratio
        )
        result = LatencyLook(
            index, time, len(canary_sorted), len(stable_sorted), alpha_k, test.z, test.p_greater,
            canary_median, canary.quantile(0.95) or 0.0, stable_median, stable.quantile(0.95) or 0.0,
            ratio, shift, failed,
        )  # fmt: skip
        self.looks.append(result)
        # the next look is the first size beyond this sample: sizes jumped over by a late call spend nothing
        while self.look_size(self.next_index) <= len(canary_sorted):
            self.next_index += 1
        return result
