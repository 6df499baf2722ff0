"""The canary judgement's rank statistics: Mann-Whitney U and z, Hodges-Lehmann shift and interval, quantiles."""

from __future__ import annotations

import math
import random
import statistics
from collections import Counter
from functools import lru_cache

import pytest

from apiops_pipelines.delivery.canary_analysis.rank_stats import mann_whitney, quantile, upper_tail
from apiops_pipelines.delivery.canary_analysis.samples import LatencySample
from apiops_pipelines.delivery.canary_analysis.shift_estimate import PairDifferences, hodges_lehmann


def test_mann_whitney_matches_a_hand_computed_example() -> None:
    """canary 3 5 7 9, stable 1 2 4 6 8: U = 2 + 3 + 4 + 5 = 14 of 20 pairs; mean 10, variance 4*5*10/12;
    z = (14 - 10 - 0.5) / sqrt(16.67) = 0.857 with the continuity correction."""
    result = mann_whitney([3, 5, 7, 9], [1, 2, 4, 6, 8])
    assert result.u == 14
    assert result.z == pytest.approx(3.5 / math.sqrt(4 * 5 * 10 / 12))
    assert result.z == pytest.approx(0.8573, abs=1e-4)
    assert result.p_greater == pytest.approx(1 - statistics.NormalDist().cdf(result.z))


def test_mann_whitney_tie_correction_by_hand() -> None:
    """canary 2 2 3, stable 1 2 2: each 2 beats 1 and ties two 2s (1 + 2 * 1/2), 3 beats all: U = 2 + 2 + 3 = 7.
    Four 2s tie: variance = 9/12 * (7 - (4^3 - 4) / (6 * 5)) = 3.75; z = (7 - 4.5 - 0.5) / sqrt(3.75)."""
    result = mann_whitney([2, 2, 3], [1, 2, 2])
    assert result.u == 7
    assert result.z == pytest.approx(2 / math.sqrt(3.75))


def test_mann_whitney_of_identical_samples_is_no_evidence() -> None:
    result = mann_whitney([5.0] * 30, [5.0] * 40)
    assert (result.z, result.p_greater) == (0.0, 1.0)


@lru_cache(maxsize=None)
def _exact_u_counts(n: int, m: int) -> tuple[int, ...]:
    """How many of the C(n+m, n) rank arrangements give each U (no ties): the classic recursion."""
    if n == 0 or m == 0:
        return (1,)
    counts = [0] * (n * m + 1)
    for u, c in enumerate(_exact_u_counts(n - 1, m)):  # the largest value is a canary one: it beats all m
        counts[u + m] += c
    for u, c in enumerate(_exact_u_counts(n, m - 1)):
        counts[u] += c
    return tuple(counts)


@pytest.mark.parametrize(("n", "m"), [(10, 10), (10, 20), (10, 100), (20, 20)])
def test_normal_tail_is_conservative_against_the_exact_distribution(n: int, m: int) -> None:
    """Where the analysis rejects (p < 0.01), the normal approximation never claims more than the exact test."""
    counts = _exact_u_counts(n, m)
    total = sum(counts)
    sd = math.sqrt(n * m * (n + m + 1) / 12)
    tail = 0
    for u in range(n * m, -1, -1):
        tail += counts[u]
        exact = tail / total
        if exact >= 0.01:
            break
        assert upper_tail((u - n * m / 2 - 0.5) / sd) >= exact


def _samples(rng: random.Random, kind: int) -> tuple[list[float], list[float]]:
    n, m = rng.randint(1, 40), rng.randint(1, 40)
    if kind == 0:  # continuous
        return [rng.random() for _ in range(n)], [rng.random() for _ in range(m)]
    if kind == 1:  # whole milliseconds, heavy ties
        return [float(rng.randint(0, 6)) for _ in range(n)], [float(rng.randint(0, 6)) for _ in range(m)]
    if kind == 2:  # a scaled canary against whole milliseconds, as the latency test compares them
        return [rng.lognormvariate(2, 0.5) / 1.5 for _ in range(n)], [float(rng.randint(1, 20)) for _ in range(m)]
    return [0.1 * rng.randint(0, 30) for _ in range(n)], [0.3 * rng.randint(0, 10) for _ in range(m)]


def test_hodges_lehmann_equals_the_brute_force_median_of_pairwise_differences() -> None:
    """Float rounding at a bracket's edge once made pair counts disagree with the subtraction brute force does."""
    rng = random.Random(20261202)
    for trial in range(400):
        canary, stable = _samples(rng, trial % 4)
        canary.sort()
        stable.sort()
        differences = sorted(x - y for x in canary for y in stable)
        pairs = PairDifferences(canary, stable)
        assert pairs.median() == statistics.median(differences)
        for k in {1, len(differences) // 4 + 1, len(differences)}:
            assert pairs.kth(k) == differences[k - 1]


def test_hodges_lehmann_on_large_tied_samples_equals_a_counting_brute_force() -> None:
    """20,000 whole-millisecond latencies per arm (400 million pairs): the median difference by counting."""
    rng = random.Random(3)
    canary = sorted(float(round(rng.lognormvariate(3.0, 0.4))) for _ in range(20_000))
    stable = sorted(float(round(rng.lognormvariate(2.9, 0.4))) for _ in range(20_000))
    by_difference: Counter[float] = Counter()
    for x, cx in Counter(canary).items():
        for y, cy in Counter(stable).items():
            by_difference[x - y] += cx * cy
    total, seen, middle = len(canary) * len(stable), 0, []
    for difference in sorted(by_difference):
        seen += by_difference[difference]
        while len(middle) < 2 and seen >= total // 2 + len(middle):
            middle.append(difference)
    assert hodges_lehmann(canary, stable).shift == sum(middle) / 2


def test_hodges_lehmann_interval_covers_the_true_shift_about_95_percent_of_the_time() -> None:
    rng = random.Random(11)
    covered, runs = 0, 400
    for _ in range(runs):
        stable = sorted(rng.lognormvariate(3.0, 0.5) for _ in range(40))
        canary = sorted(rng.lognormvariate(3.0, 0.5) + 5.0 for _ in range(30))
        estimate = hodges_lehmann(canary, stable)
        covered += estimate.low <= 5.0 <= estimate.high
        assert estimate.low <= estimate.shift <= estimate.high
    assert 0.92 <= covered / runs <= 0.98


def test_quantile_interpolates_between_order_statistics() -> None:
    assert quantile([1.0, 2.0, 3.0, 4.0], 0.5) == 2.5
    assert quantile([1.0, 2.0, 3.0, 4.0], 0.95) == pytest.approx(3.85)
    assert quantile([], 0.5) is None


def test_latency_sample_stays_sorted_as_values_keep_arriving() -> None:
    rng = random.Random(5)
    sample, everything = LatencySample(), []
    for _ in range(5):
        batch = [rng.random() for _ in range(100)]
        for value in batch:
            sample.add(value)
        everything += batch
        assert sample.sorted() == sorted(everything)
