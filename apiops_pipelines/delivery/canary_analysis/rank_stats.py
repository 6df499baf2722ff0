"""Two-sample rank statistics on sorted samples: Mann-Whitney U and z, quantiles.

Samples come sorted (samples.LatencySample keeps them so). U walks the distinct canary values and
binary-searches the stable sample, O(n log m) with the search in C: milliseconds for 100k latencies in
HAProxy's whole milliseconds, which repeat a lot. U counts the pairs where the canary is larger, ties as
one half; z uses the normal approximation with the tie-corrected variance and a continuity correction of
1/2. For the sizes the analysis looks at (>= 10 values on each arm; 20 canary by default) the normal tail is
conservative where the analysis rejects: U is bounded, and its exact tail ends where the normal one still
has mass (a test pins this against the exact distribution).
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class MannWhitney:
    u: float  # pairs (canary, stable) with the canary larger, ties counting 1/2
    n: int  # canary values
    m: int  # stable values
    z: float
    p_greater: float  # one-sided: P(U at least this large) if the canary is not stochastically larger


def distinct(sorted_values: Sequence[float]) -> tuple[list[float], list[int]]:
    """The distinct values of a sorted sample and how often each occurs."""
    values: list[float] = []
    counts: list[int] = []
    for value in sorted_values:
        if values and values[-1] == value:
            counts[-1] += 1
        else:
            values.append(value)
            counts.append(1)
    return values, counts


def upper_tail(z: float) -> float:
    """P(Z >= z) without the underflow of 1 - cdf (erfc stays accurate to about 1e-300)."""
    return 0.5 * math.erfc(z / math.sqrt(2))


def mann_whitney(canary: Sequence[float], stable: Sequence[float]) -> MannWhitney:
    """U, z and the one-sided p of `canary` larger than `stable`; both sorted ascending."""
    n, m = len(canary), len(stable)
    if n == 0 or m == 0:
        return MannWhitney(0.0, n, m, 0.0, 1.0)
    values, counts = distinct(canary)
    stable_values, stable_counts = distinct(stable)
    pooled = dict(zip(stable_values, stable_counts))  # value: how often it occurs in both samples
    u = 0.0
    for value, count in zip(values, counts):
        below = bisect_left(stable, value)
        equal = bisect_right(stable, value, below) - below
        u += count * (below + 0.5 * equal)
        pooled[value] = pooled.get(value, 0) + count
    tie_sum = sum(t * t * t - t for t in pooled.values() if t > 1)
    total = n + m
    variance = n * m / 12 * ((total + 1) - tie_sum / (total * (total - 1)))
    if variance <= 0:  # every value equal: no evidence either way
        return MannWhitney(u, n, m, 0.0, 1.0)
    z = (u - n * m / 2 - 0.5) / math.sqrt(variance)
    return MannWhitney(u, n, m, z, upper_tail(z))


def quantile(sorted_values: Sequence[float], q: float) -> float | None:
    """Linear interpolation between order statistics (numpy's default); None for an empty sample."""
    if not sorted_values:
        return None
    position = (len(sorted_values) - 1) * q
    below = math.floor(position)
    above = min(below + 1, len(sorted_values) - 1)
    return sorted_values[below] + (sorted_values[above] - sorted_values[below]) * (position - below)
