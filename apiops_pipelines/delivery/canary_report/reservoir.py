"""The latencies of one time bucket and arm, capped so that a flood of requests cannot exhaust memory.

Below the cap every latency is kept and the percentiles are exact. Past it, Vitter's algorithm R keeps a
uniform sample of `cap` latencies (each of the `seen` latencies equally likely to be kept), so p50 and p95
become estimates from `cap` values: at the default 5,000 the p95's standard error is about a third of a
percentile point. The random choices come from a generator seeded by the bucket and arm, so the same
requests in the same order always give the same report (and reproducible tests). Values live in an
`array('d')`: 8 bytes each, so one full bucket of one arm holds 40 kB.
"""

from __future__ import annotations

import random
from array import array
from collections.abc import Iterable, Sequence

from apiops_pipelines.delivery.canary_analysis.rank_stats import quantile


class LatencyReservoir:
    __slots__ = ("cap", "seen", "_values", "_seed", "_rng", "_sorted")

    def __init__(self, cap: int, seed: str) -> None:
        if cap < 1:
            raise ValueError(f"the latency cap must be at least 1, not {cap}")
        self.cap = cap
        self.seen = 0  # latencies offered, kept or not
        self._values = array("d")
        self._seed = seed
        self._rng: random.Random | None = None  # created only once the cap is reached: most buckets never are
        self._sorted: list[float] | None = None

    def add(self, value: float) -> None:
        self.seen += 1
        self._sorted = None
        if len(self._values) < self.cap:
            self._values.append(value)
            return
        if self._rng is None:
            self._rng = random.Random(self._seed)  # str seeds hash with SHA-512: stable across processes
        slot = self._rng.randrange(self.seen)
        if slot < self.cap:
            self._values[slot] = value

    @property
    def kept(self) -> int:
        return len(self._values)

    @property
    def capped(self) -> bool:
        return self.seen > len(self._values)

    @property
    def weight(self) -> float:
        """How many seen latencies each kept one stands for (1.0 below the cap)."""
        return self.seen / len(self._values) if self._values else 0.0

    def sorted(self) -> list[float]:
        if self._sorted is None:
            self._sorted = sorted(self._values)
        return self._sorted


def window_quantiles(reservoirs: Iterable[LatencyReservoir], qs: Sequence[float]) -> list[float | None]:
    """The quantiles `qs` of the latencies of several buckets together.

    Exact (linear interpolation, as the analysis' tables) when no bucket reached its cap. Otherwise each kept
    latency stands for `weight` seen ones and the quantile is the weighted inverse distribution: a bucket with
    10x the traffic of its neighbour counts 10x, as its requests did.
    """
    chosen = [r for r in reservoirs if r.kept]
    if not chosen:
        return [None for _ in qs]
    if not any(r.capped for r in chosen):
        merged = sorted(v for r in chosen for v in r.sorted()) if len(chosen) > 1 else chosen[0].sorted()
        return [quantile(merged, q) for q in qs]
    pairs = sorted((v, r.weight) for r in chosen for v in r.sorted())
    total = sum(w for _, w in pairs)
    results: list[float | None] = []
    for q in qs:
        target, cumulative = q * total, 0.0
        answer = pairs[-1][0]
        for value, w in pairs:
            cumulative += w
            if cumulative >= target - 1e-9 * total:
                answer = value
                break
        results.append(answer)
    return results

