"""What the canary judgement takes from `canary:` in apiops.yaml, as one typed, validated value.

The engine does not import the configuration model: the Dagster layer builds `CanarySettings` from
`CanaryConfig` with `settings_from_config`, which reads the keys it knows and keeps the defaults for the rest
(keys added to the yaml later keep working before this module learns them).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any


@dataclass(frozen=True)
class CanarySettings:
    steps: tuple[int, ...] = (10, 50, 100)  # canary share of each step, percent
    alpha: float = 0.01  # false-alarm rate of the whole analysis: every metric, operation, step and look
    max_error_rate_increase: float = 0.01  # absolute: 0.01 tolerates the canary at +1 point over the stable
    max_latency_ratio: float = 1.5  # canary latency may be up to this multiple of the stable's
    min_latency_delta_ms: float = 5.0  # a slower canary fails only when at least this much slower (HL shift)
    min_requests: int = 300  # canary requests in a step before it may pass
    min_touched_requests: int = 20  # canary requests of each touched operation before any step may pass
    touched_operations: tuple[str, ...] = ()  # the operations the spec diff changed
    operations: tuple[str, ...] = ()  # the spec's operations: each gets an equal share of the per-operation alpha
    interval_s: float = 30.0  # a step passes only after this long
    max_wait_s: float = 150.0  # a step without a decision this long after it started: insufficient data
    latency_first_look: int = 20  # canary latencies of an operation at its first latency look (then x1.5 each)
    latency_min_stable: int = 20  # stable latencies needed before a latency look counts

    def __post_init__(self) -> None:
        problems = []
        if not self.steps or any(not 0 < s <= 100 for s in self.steps) or list(self.steps) != sorted(set(self.steps)):
            problems.append(f"steps {list(self.steps)} must increase within 1..100")
        if not 0 < self.alpha < 1:
            problems.append(f"alpha {self.alpha} must be between 0 and 1")
        if not 0 <= self.max_error_rate_increase < 1:
            problems.append(f"max_error_rate_increase {self.max_error_rate_increase} must be in [0, 1)")
        if self.max_latency_ratio < 1:
            problems.append(f"max_latency_ratio {self.max_latency_ratio} must be at least 1")
        if self.min_latency_delta_ms < 0 or self.min_requests < 0 or self.min_touched_requests < 0:
            problems.append("min_latency_delta_ms, min_requests and min_touched_requests must not be negative")
        if self.interval_s < 0 or self.max_wait_s < self.interval_s:
            problems.append(f"max_wait_s {self.max_wait_s} must be at least interval_s {self.interval_s}")
        if self.latency_first_look < 10 or self.latency_min_stable < 10:
            # below 10 values the normal approximation of Mann-Whitney is no longer safely conservative
            problems.append("latency_first_look and latency_min_stable must be at least 10")
        if problems:
            raise ValueError("invalid canary settings: " + "; ".join(problems))

    @property
    def last_step(self) -> int:
        return self.steps[-1]


_ALIASES = {"interval": "interval_s", "max_wait": "max_wait_s"}  # the yaml's names for durations in seconds


def settings_from_config(config: Any, **overrides: Any) -> CanarySettings:
    """Settings from a `CanaryConfig` (or any object or mapping with its keys), then `overrides` on top.

    `touched_operations` and `operations` come from the spec diff and the spec, not from the yaml: pass them
    as overrides.
    """
    known = {f.name for f in fields(CanarySettings)}
    source = config if isinstance(config, dict) else getattr(config, "__dict__", {})
    values: dict[str, Any] = {}
    for key, value in source.items():
        name = _ALIASES.get(key, key)
        if name in known and value is not None:
            values[name] = tuple(value) if isinstance(value, list) else value
    values.update(overrides)
    for name in ("touched_operations", "operations", "steps"):
        if name in values:
            values[name] = tuple(values[name])
    return CanarySettings(**values)
