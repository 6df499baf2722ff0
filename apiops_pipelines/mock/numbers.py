"""Integers and numbers within bounds: `minimum`/`maximum`, their exclusive forms, `multipleOf` and the
int32/int64 formats. Arithmetic is exact (fractions), so a multiple of 0.1 is 0.3, not 0.30000000000000004."""

from __future__ import annotations

import math
from fractions import Fraction
from random import Random
from typing import Any

from apiops_pipelines.mock.schema_merge import Impossible

_FORMAT_RANGES = {"int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1)}
_SAFE = 2**53  # integers beyond this lose precision in JavaScript clients
_WINDOW = 1000  # how far past one bound values go when the other is open


def _exact(value: Any) -> Fraction:
    return Fraction(repr(value)) if isinstance(value, float) else Fraction(value)


def _bound(s: dict[str, Any], inclusive: str, exclusive: str, tighter: Any) -> tuple[Fraction | None, bool]:
    found: list[tuple[Fraction, bool]] = []
    if isinstance(s.get(inclusive), (int, float)) and not isinstance(s.get(inclusive), bool):
        found.append((_exact(s[inclusive]), False))
    if isinstance(s.get(exclusive), (int, float)) and not isinstance(s.get(exclusive), bool):
        found.append((_exact(s[exclusive]), True))
    if not found:
        return None, False
    value = tighter(v for v, _ in found)
    return value, any(open_ for v, open_ in found if v == value)


def number_in_bounds(s: dict[str, Any], rng: Random, *, integer: bool) -> int | float:
    low, low_open = _bound(s, "minimum", "exclusiveMinimum", max)
    high, high_open = _bound(s, "maximum", "exclusiveMaximum", min)
    if integer:
        floor_, ceiling = _FORMAT_RANGES.get(s.get("format"), (-_SAFE, _SAFE))
        if low is None or low < floor_:
            low, low_open = Fraction(floor_), False
        if high is None or high > ceiling:
            high, high_open = Fraction(ceiling), False
        low, low_open, high, high_open = _window(low, low_open, high, high_open, floor_, ceiling, rng)
    elif low is None or high is None:
        low, low_open, high, high_open = _window(low, low_open, high, high_open, None, None, rng)
    step = s.get("multipleOf")
    unit: Fraction | None = _exact(step) if isinstance(step, (int, float)) and step > 0 else None
    if integer:
        unit = Fraction(unit.numerator) if unit is not None else Fraction(1)  # integer multiples of p/q: of p
    if unit is not None:
        first, last = math.ceil(low / unit), math.floor(high / unit)
        first += 1 if low_open and first * unit == low else 0
        last -= 1 if high_open and last * unit == high else 0
        if first > last:
            raise Impossible(f"no multiple of {step} lies within the bounds")
        if integer:
            return int(rng.randint(first, last) * unit)
        choices = [rng.randint(first, last) * unit for _ in range(16)]
        # Prefer a value that clients dividing in floating point also see as a multiple (0.29 / 0.01 is not).
        value = next((v for v in choices if (float(v) / float(unit)).is_integer()), choices[0])
        return int(value) if value.denominator == 1 else float(value)
    return _real(low, low_open, high, high_open, rng)


def _window(low: Fraction | None, low_open: bool, high: Fraction | None, high_open: bool,
            floor_: int | None, ceiling: int | None, rng: Random) -> tuple[Fraction, bool, Fraction, bool]:  # fmt: skip
    """Narrow a half-open or unbounded range to realistic values near its one bound (or near 0..1000)."""
    wide_low = low is None or (floor_ is not None and low == floor_)
    wide_high = high is None or (ceiling is not None and high == ceiling)
    if wide_low and wide_high:
        return Fraction(1), False, Fraction(_WINDOW), False
    if wide_low:
        assert high is not None
        return (high - _WINDOW if high <= 0 else max(Fraction(0), high - _WINDOW)), False, high, high_open
    if wide_high:
        assert low is not None
        return low, low_open, low + _WINDOW, False
    assert low is not None and high is not None
    return low, low_open, high, high_open


def _real(low: Fraction, low_open: bool, high: Fraction, high_open: bool, rng: Random) -> float:
    def inside(x: float) -> bool:
        exact = _exact(x)
        return (exact > low if low_open else exact >= low) and (exact < high if high_open else exact <= high)

    if low == high and not (low_open or high_open):
        return float(low)
    point = low + (high - low) * Fraction(rng.random())
    for candidate in (round(float(point), 2), float(point), float((low + high) / 2)):
        if inside(candidate):
            return candidate
    raise Impossible("no number lies within the bounds")
