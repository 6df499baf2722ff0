"""Is the canary's error rate above the stable's plus the tolerance? An e-process, valid when checked after
every request.

Model. Within each arm (and operation), requests fail independently with a fixed rate: theta_c on the canary,
theta_s on the stable. Which arm serves the next request may depend on anything that happened before (the
weights change between steps, HAProxy interleaves deterministically): it only has to be decided before that
request's outcome, which routing guarantees. The null hypothesis is the user's tolerance,

    H0: theta_c <= theta_s + delta          (delta = max_error_rate_increase, absolute)

Statistic (sequential universal inference, Wasserman, Ramdas & Balakrishnan 2020). With S errors among n
requests on each arm,

    E = Q_c(S_c, n_c) * Q_s(S_s, n_s) / max over H0 of L_c(theta_c) * L_s(theta_s)

Q is a Bayes mixture likelihood, i.e. the product of each request's predictive probability given the
requests before it: for the canary a uniform mixture over the rates delta*2, delta*4, ..., below 1 (few
points cost little evidence, and a doubling grid is within a factor sqrt(2) of any rate worth detecting);
for the stable a Beta(0.05, 1) mixture (healthy stables rarely fail, and a prior near zero costs almost no
evidence then; any prior keeps the test valid). For each fixed (theta_c, theta_s) in H0, Q_c Q_s / (L_c L_s)
is a nonnegative martingale with mean 1 over the interleaved requests, and E is never larger than it. By
Ville's inequality, P(E ever reaches 1/alpha) <= alpha under H0, however often E is looked at, so the
canary fails on the first request at which E >= 1/alpha. The maximum under H0 is on the boundary
theta_c = theta_s + delta (the unconstrained maximum is outside H0 whenever E can exceed 1) and is a
one-dimensional concave maximization, solved by bisection on its derivative.

Why not two confidence sequences (a Beta-binomial mixture lower bound for the canary minus an upper bound
for the stable)? On simulated 10% canaries beside a stable without errors it needed a median of 89 canary
requests against 48 for E: the stable's bound is wide early on and each bound spends its own alpha, while
E profiles both rates jointly and spends alpha once.

What it costs. To reject with the default tolerance (0.01) at alpha 0.003, a canary with 10% errors must show
about 7 errors: 7 of 100 canary requests is the least that crosses 1/alpha. A fixed-size exact binomial test
that knew the stable never fails would need 5 of 100 at alpha 0.01; anytime validity and an unknown stable
cost about two errors.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

STABLE_PRIOR = (0.05, 1.0)
_BISECTIONS = 60


def _log_likelihood(errors: int, n: int, rate: float) -> float:
    ok = n - errors
    if (errors and rate <= 0) or (ok and rate >= 1):
        return -math.inf
    return (errors * math.log(rate) if errors else 0.0) + (ok * math.log1p(-rate) if ok else 0.0)


def _log_beta(a: float, b: float) -> float:
    return math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)


def _log_mean_exp(values: list[float]) -> float:
    top = max(values)
    if top == -math.inf:
        return top
    return top + math.log(sum(math.exp(v - top) for v in values) / len(values))


def canary_grid(tolerance: float) -> tuple[float, ...]:
    """The canary alternatives: tolerance x 2, x 4, ... below 1 (from 0.002 when the tolerance is below 0.001)."""
    step = max(tolerance, 0.001)
    grid, rate = [], 2 * step
    while rate < 1:
        grid.append(rate)
        rate *= 2
    return tuple(grid) or (0.99,)


def log_mixture_canary(errors: int, n: int, grid: tuple[float, ...]) -> float:
    return _log_mean_exp([_log_likelihood(errors, n, g) for g in grid])


def log_mixture_stable(errors: int, n: int) -> float:
    a, b = STABLE_PRIOR
    return _log_beta(a + errors, b + n - errors) - _log_beta(a, b)


def log_null_maximum(canary_errors: int, canary_n: int, stable_errors: int, stable_n: int, tolerance: float) -> float:
    """log of the largest likelihood of both arms under H0 (theta_c <= theta_s + tolerance)."""
    rate_c = canary_errors / canary_n if canary_n else 0.0
    rate_s = stable_errors / stable_n if stable_n else 0.0
    if rate_c <= rate_s + tolerance:
        return _log_likelihood(canary_errors, canary_n, rate_c) + _log_likelihood(stable_errors, stable_n, rate_s)
    ok_c, ok_s = canary_n - canary_errors, stable_n - stable_errors

    def slope(t: float) -> float:  # derivative of log L_c(t + tolerance) + log L_s(t); decreasing in t
        canary_rate, canary_rest, stable_rest = t + tolerance, 1 - t - tolerance, 1 - t
        if (canary_errors and canary_rate <= 0) or (stable_errors and t <= 0):
            return math.inf
        if (ok_c and canary_rest <= 0) or (ok_s and stable_rest <= 0):
            return -math.inf
        value = 0.0
        if canary_errors:
            value += canary_errors / canary_rate
        if ok_c:
            value -= ok_c / canary_rest
        if stable_errors:
            value += stable_errors / t
        if ok_s:
            value -= ok_s / stable_rest
        return value

    low, high = 0.0, 1.0 - tolerance
    if slope(low) <= 0:
        high = low
    else:
        for _ in range(_BISECTIONS):
            middle = (low + high) / 2
            if slope(middle) > 0:
                low = middle
            else:
                high = middle
    best = max(
        _log_likelihood(canary_errors, canary_n, min(t + tolerance, 1.0)) + _log_likelihood(stable_errors, stable_n, t)
        for t in (low, high)
    )
    return best


def log_e_value(
    canary_errors: int, canary_n: int, stable_errors: int, stable_n: int, tolerance: float,
    grid: tuple[float, ...] | None = None,
) -> float:  # fmt: skip
    """log E for the counts so far (0 or below: no evidence against H0)."""
    if canary_n == 0 or canary_errors / canary_n <= (stable_errors / stable_n if stable_n else 0.0) + tolerance:
        return 0.0  # the best fit of the data is in H0, so E <= 1: report exactly "no evidence"
    grid = grid or canary_grid(tolerance)
    numerator = log_mixture_canary(canary_errors, canary_n, grid) + log_mixture_stable(stable_errors, stable_n)
    null = log_null_maximum(canary_errors, canary_n, stable_errors, stable_n, tolerance)
    return numerator - null


@dataclass
class ErrorRateTest:
    """One error metric over one operation (or all), fed request by request; the first crossing is kept."""

    metric: str
    operation: str
    alpha: float
    tolerance: float
    canary_n: int = 0
    canary_errors: int = 0
    stable_n: int = 0
    stable_errors: int = 0
    failed_at: float | None = None
    failed_log_e: float = 0.0
    failed_counts: tuple[int, int, int, int] = (0, 0, 0, 0)  # canary errors, canary n, stable errors, stable n
    _grid: tuple[float, ...] = field(default=(), repr=False)

    def __post_init__(self) -> None:
        self._grid = canary_grid(self.tolerance)
        self._threshold = math.log(1 / self.alpha)

    def add(self, canary: bool, error: bool, time: float) -> bool:
        """Count one request; True when this request makes the test fail (only the first time)."""
        if canary:
            self.canary_n += 1
            self.canary_errors += error
        else:
            self.stable_n += 1
            self.stable_errors += error
        if self.failed_at is not None or self.canary_errors == 0 or not self._may_cross():
            return False
        log_e = log_e_value(self.canary_errors, self.canary_n, self.stable_errors, self.stable_n, self.tolerance,
                            self._grid)  # fmt: skip
        if log_e < self._threshold:
            return False
        self.failed_at, self.failed_log_e = time, log_e
        self.failed_counts = (self.canary_errors, self.canary_n, self.stable_errors, self.stable_n)
        return True

    def _may_cross(self) -> bool:
        """A cheap upper bound of log E (the null evaluated at one feasible point) before the exact maximum."""
        rate_s = self.stable_errors / self.stable_n if self.stable_n else 0.0
        boundary = rate_s + self.tolerance
        if self.canary_errors / self.canary_n <= boundary or boundary >= 1:
            return False
        bound = (log_mixture_canary(self.canary_errors, self.canary_n, self._grid)
                 + log_mixture_stable(self.stable_errors, self.stable_n)
                 - _log_likelihood(self.canary_errors, self.canary_n, boundary)
                 - _log_likelihood(self.stable_errors, self.stable_n, rate_s))  # fmt: skip
        return bound >= self._threshold

    def log_e(self) -> float:
        if self.failed_at is not None:
            return self.failed_log_e
        return log_e_value(self.canary_errors, self.canary_n, self.stable_errors, self.stable_n, self.tolerance,
                           self._grid)  # fmt: skip
