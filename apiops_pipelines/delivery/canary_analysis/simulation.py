"""Request streams for the benchmark and the tests: simulated (seeded, reacting to the canary's weight) or
recorded (a list of observations from a real access log, replayed as it was).

The simulated API has a few operations with lognormal latencies of different medians and spreads, rounded
to whole milliseconds as HAProxy logs them, a small base rate of 5xx on both arms and 4xx where clients ask
for missing things. Requests arrive as a Poisson process; routing interleaves the arms deterministically at
the current weight, as HAProxy's weighted round robin does. Each request draws its outcome once for
both arms (common random numbers): two judges that route differently still see the same requests.
"""

from __future__ import annotations

import math
import random
from bisect import bisect
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from itertools import accumulate
from typing import Protocol

from apiops_pipelines.delivery.canary_analysis.observation import CANARY, STABLE, Observation


@dataclass(frozen=True)
class OperationProfile:
    operation: str
    weight: float  # share of the traffic, relative
    median_ms: float
    sigma: float  # of log latency: p95/p50 = exp(1.645 sigma)
    client_error_rate: float = 0.0


DEFAULT_OPERATIONS = (
    OperationProfile("GET /orders", 0.35, 25.0, 0.45),
    OperationProfile("GET /orders/{id}", 0.35, 8.0, 0.40, client_error_rate=0.03),
    OperationProfile("POST /orders", 0.20, 40.0, 0.50, client_error_rate=0.02),
    OperationProfile("DELETE /orders/{id}", 0.10, 15.0, 0.45, client_error_rate=0.03),
)


@dataclass(frozen=True)
class Fault:
    """What the release got wrong, on the canary only."""

    name: str = "clean"
    server_error_rate: float = 0.0  # added to the base 5xx rate
    latency_factor: float = 1.0
    operation: str | None = None  # None: every operation

    def applies(self, operation: str) -> bool:
        return self.operation is None or self.operation == operation


class StreamSource(Protocol):
    def requests(self, share: Callable[[], float]) -> Iterator[Observation]:
        """Observations in arrival order; `share()` is the canary's weight share at the moment (0..1)."""
        ...


@dataclass(frozen=True)
class RecordedStream:
    """Observations recorded from a real run, replayed as they were (their arms and shares included)."""

    observations: Sequence[Observation]

    def requests(self, share: Callable[[], float]) -> Iterator[Observation]:
        return iter(self.observations)


@dataclass(frozen=True)
class SimulatedStream:
    seed: int
    fault: Fault = Fault()
    operations: tuple[OperationProfile, ...] = DEFAULT_OPERATIONS
    rps: float = 200.0
    base_server_error_rate: float = 0.001
    duration_s: float = 900.0  # bounded: a judge that never decides still ends
    start: float = 0.0

    def requests(self, share: Callable[[], float]) -> Iterator[Observation]:
        rng = random.Random(self.seed)
        profiles, fault = self.operations, self.fault
        cumulative = list(accumulate(p.weight for p in profiles))
        time, end, credit = self.start, self.start + self.duration_s, 0
        while True:
            time += rng.expovariate(self.rps)
            if time >= end:
                return
            profile = profiles[min(bisect(cumulative, rng.random() * cumulative[-1]), len(profiles) - 1)]
            server_draw, client_draw, latency_draw = rng.random(), rng.random(), rng.gauss(0.0, 1.0)
            percent = round(100 * share())
            credit += percent  # weighted round robin: the canary gets `percent` of every 100 requests
            canary = credit >= 100
            credit -= 100 if canary else 0
            faulty = canary and fault.applies(profile.operation)
            error_rate = self.base_server_error_rate + (fault.server_error_rate if faulty else 0.0)
            latency = profile.median_ms * math.exp(profile.sigma * latency_draw)
            latency *= fault.latency_factor if faulty else 1.0
            if server_draw < error_rate:
                status = 503
            elif client_draw < profile.client_error_rate:
                status = 404
            else:
                status = 201 if profile.operation.startswith("POST") else 200
            yield Observation(time, CANARY if canary else STABLE, profile.operation, status,
                              float(round(latency)), False, percent / 100)  # fmt: skip
