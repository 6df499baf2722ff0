"""Axes for the charts: round tick values (1, 2, 2.5 or 5 times a power of ten) and value-to-pixel maps."""

from __future__ import annotations

import math
from dataclasses import dataclass


QUARTERS = (1.0, 2.0, 2.5, 5.0, 10.0)  # for values: 0.25% reads well on a rate axis
PLAIN = (1.0, 2.0, 5.0, 10.0)  # for seconds: 2.5, 7.5, 12.5 s read worse than 2, 4, 6


def nice_step(span: float, target: int = 5, multiples: tuple[float, ...] = QUARTERS) -> float:
    """The smallest round step that cuts `span` into at most about `target` intervals."""
    if not span > 0 or not math.isfinite(span):
        return 1.0
    raw = span / max(target, 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    for multiple in multiples:
        if multiple * magnitude >= raw * (1 - 1e-9):
            return multiple * magnitude
    return 10 * magnitude


def ticks(low: float, high: float, target: int = 5,
          multiples: tuple[float, ...] = QUARTERS) -> tuple[list[float], float]:  # fmt: skip
    """(round values within [low, high], the step between them)."""
    step = nice_step(high - low, target, multiples)
    first = math.ceil(low / step - 1e-9) * step
    values, k = [], 0
    while first + k * step <= high + 1e-9 * step and k < 100:
        values.append(round(first + k * step, 12))
        k += 1
    return values, step


def nice_top(largest: float | None, minimum: float) -> float:
    """A round upper end of a zero-based axis above `largest`, never below `minimum` (a flat 0 line gets an axis)."""
    top = max(largest or 0.0, minimum)
    step = nice_step(top, 4)
    return math.ceil(top / step - 1e-9) * step


@dataclass(frozen=True)
class Scale:
    low: float
    high: float
    px_low: float
    px_high: float

    def __call__(self, value: float) -> float:
        span = self.high - self.low
        fraction = (value - self.low) / span if span else 0.5
        return self.px_low + fraction * (self.px_high - self.px_low)
