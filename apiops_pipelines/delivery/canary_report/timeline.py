"""Both arms' requests over time, in fixed buckets, for the report's charts; and the moments charts mark.

    timeline = Timeline(bucket_s=1.0)
    for observation in requests:            # as they reach the analysis, in any order
        timeline.add(observation)
    points = timeline.series(window_s=5.0)   # {"canary": [SeriesPoint, ...], "stable": [...]}

Counts (requests, server and client errors) are exact. Latencies are those the analysis ranks
(`Observation.timed_latency_ms`: answered requests that were not server errors, so a fast 503 cannot make a
broken canary look quick); each bucket keeps at most `max_samples` of them per arm (reservoir.py: exact
percentiles below the cap, a deterministic uniform sample above it). Memory is therefore bounded by
buckets x 2 arms x max_samples x 8 bytes whatever the request rate; the number of buckets is the canary's
duration over `bucket_s` (bounded by the steps' max_wait), so a long, busy release should take larger buckets.

A rate plotted per 1 s bucket jumps to 100% when the canary's only request of that second fails; a chart of
rates should read `series(window_s=5.0)`: every point's rates and percentiles then cover the window ending
with its bucket, while `requests` stays the bucket's own.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from apiops_pipelines.delivery.canary_analysis.observation import CANARY, STABLE, Observation
from apiops_pipelines.delivery.canary_report.reservoir import LatencyReservoir, window_quantiles


@dataclass(frozen=True)
class WeightChange:
    """One change of the backend's server weights, as the gateway accepted it."""

    time: float  # Unix seconds
    canary_weight: int
    stable_weight: int
    reason: str  # e.g. "step 10%", "rollback: server errors on GET /orders", "promotion"

    @property
    def canary_share(self) -> float | None:
        total = self.canary_weight + self.stable_weight
        return self.canary_weight / total if total else None


@dataclass(frozen=True)
class StepBoundary:
    """The moment a step began: the canary's share became `percent`."""

    time: float  # Unix seconds
    percent: int


@dataclass(frozen=True)
class SeriesPoint:
    t: float  # the bucket's start, Unix seconds
    requests: int  # in this bucket
    error_rate: float | None  # server errors (5xx, broken sessions) / requests over the window; None: no request
    client_error_rate: float | None  # 4xx / requests over the window
    p50_ms: float | None  # of the window's latencies; None: no latency
    p95_ms: float | None
    window_requests: int  # the denominator of the rates


class _ArmBucket:
    __slots__ = ("requests", "server_errors", "client_errors", "latencies")

    def __init__(self, cap: int, seed: str) -> None:
        self.requests = self.server_errors = self.client_errors = 0
        self.latencies = LatencyReservoir(cap, seed)


class Timeline:
    def __init__(self, bucket_s: float = 1.0, *, max_samples: int = 5_000) -> None:
        if not bucket_s > 0 or not math.isfinite(bucket_s):
            raise ValueError(f"bucket_s must be a positive number of seconds, not {bucket_s}")
        if max_samples < 1:
            raise ValueError(f"max_samples must be at least 1, not {max_samples}")
        self.bucket_s = bucket_s
        self.max_samples = max_samples
        self._buckets: dict[int, dict[str, _ArmBucket]] = {}
        self.first_time: float | None = None  # of the earliest and latest observation: how much of their buckets
        self.last_time: float | None = None  # the requests cover (a rate per second of a partial bucket needs it)

    def add(self, observation: Observation) -> None:
        time = observation.time
        if self.first_time is None or time < self.first_time:
            self.first_time = time
        if self.last_time is None or time > self.last_time:
            self.last_time = time
        index = math.floor(time / self.bucket_s)
        arms = self._buckets.setdefault(index, {})
        bucket = arms.get(observation.arm)
        if bucket is None:
            bucket = arms[observation.arm] = _ArmBucket(self.max_samples, f"{index}:{observation.arm}")
        bucket.requests += 1
        bucket.server_errors += observation.server_error
        bucket.client_errors += observation.client_error
        latency = observation.timed_latency_ms
        if latency is not None:
            bucket.latencies.add(latency)

    # -- reading ------------------------------------------------------------------------------------------
    @property
    def span(self) -> tuple[float, float] | None:
        """(start of the first bucket, end of the last) in Unix seconds; None before any request."""
        if not self._buckets:
            return None
        return min(self._buckets) * self.bucket_s, (max(self._buckets) + 1) * self.bucket_s

    def totals(self, arm: str) -> tuple[int, int, int]:
        """(requests, server errors, client errors) of `arm` over the whole timeline; exact."""
        buckets = [arms[arm] for arms in self._buckets.values() if arm in arms]
        return (sum(b.requests for b in buckets), sum(b.server_errors for b in buckets),
                sum(b.client_errors for b in buckets))  # fmt: skip

    def kept_samples(self) -> int:
        """Latencies held in memory over every bucket and arm (what max_samples bounds)."""
        return sum(b.latencies.kept for arms in self._buckets.values() for b in arms.values())

    def series(self, window_s: float | None = None) -> dict[str, list[SeriesPoint]]:
        """Per arm, a point per bucket from the first request to the last.

        `window_s` (rounded to whole buckets, at least one) is the span the rates and percentiles cover. After
        a bucket with requests come points up to where its window ends, the last of them empty: a line drawn
        through the points breaks at a silence instead of bridging it, and no bucket list grows with the length
        of the silence. Nothing comes after the last bucket with requests.
        """
        width = max(1, round((window_s or self.bucket_s) / self.bucket_s))
        last = max(self._buckets, default=0)
        indexes = sorted({k + offset for k in self._buckets for offset in range(width + 1) if k + offset <= last})
        return {arm: [self._point(arm, k, width) for k in indexes] for arm in (CANARY, STABLE)}

    def _point(self, arm: str, index: int, width: int) -> SeriesPoint:
        window = [arms[arm] for k in range(index - width + 1, index + 1)
                  if (arms := self._buckets.get(k)) is not None and arm in arms]  # fmt: skip
        own = self._buckets.get(index, {}).get(arm)
        requests = sum(b.requests for b in window)
        p50, p95 = window_quantiles((b.latencies for b in window), (0.5, 0.95))
        return SeriesPoint(
            index * self.bucket_s, own.requests if own else 0,
            sum(b.server_errors for b in window) / requests if requests else None,
            sum(b.client_errors for b in window) / requests if requests else None,
            p50, p95, requests,
        )  # fmt: skip
