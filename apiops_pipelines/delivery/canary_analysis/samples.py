"""Running tallies and latency samples of one arm, kept so that judging every second stays cheap."""

from __future__ import annotations

from dataclasses import dataclass, field

from apiops_pipelines.delivery.canary_analysis.observation import Observation
from apiops_pipelines.delivery.canary_analysis.rank_stats import quantile


@dataclass
class ArmTally:
    requests: int = 0
    server_errors: int = 0
    client_errors: int = 0

    def add(self, observation: Observation) -> None:
        self.requests += 1
        self.server_errors += observation.server_error
        self.client_errors += observation.client_error

    @property
    def server_error_rate(self) -> float | None:
        return self.server_errors / self.requests if self.requests else None

    @property
    def client_error_rate(self) -> float | None:
        return self.client_errors / self.requests if self.requests else None


@dataclass
class LatencySample:
    """Latencies in arrival order, sorted in place when read.

    Appending is O(1); the sort at a read finds the already sorted prefix as one run and merges the new tail
    into it, so reading every second costs about one pass over the sample, not a full sort.
    """

    _values: list[float] = field(default_factory=list)
    _sorted: bool = True

    def add(self, value: float) -> None:
        if self._sorted and self._values and value < self._values[-1]:
            self._sorted = False
        self._values.append(value)

    def __len__(self) -> int:
        return len(self._values)

    def sorted(self) -> list[float]:
        """The values ascending (the sample's own list: read it, do not change it)."""
        if not self._sorted:
            self._values.sort()
            self._sorted = True
        return self._values

    def quantile(self, q: float) -> float | None:
        return quantile(self.sorted(), q)


@dataclass
class ArmData:
    """Everything kept about one arm over one operation (or all) and one period (a step or the analysis)."""

    tally: ArmTally = field(default_factory=ArmTally)
    latencies: LatencySample = field(default_factory=LatencySample)

    def add(self, observation: Observation) -> None:
        self.tally.add(observation)
        latency = observation.timed_latency_ms
        if latency is not None:
            self.latencies.add(latency)
