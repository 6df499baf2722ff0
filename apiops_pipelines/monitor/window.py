"""One window of production traffic per API: counts, rates and exact percentiles, over all of the API's requests
and per spec operation.

Exact rather than estimated: a window holds what one bounded read of the access log returns (a few hundred
thousand requests at most), so sorting its latencies costs little and the numbers match a count by hand.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from apiops_pipelines.platform.access_log import AccessRecord

OperationOf = Callable[[str, str], str]  # (method, path as logged) -> "GET /items/{id}", or "unmatched"
NO_SERVER = "<NOSRV>"  # HAProxy's name for "no server was chosen" (a 503 with every server down)


def is_server_error(record: AccessRecord) -> bool:
    """The release's failure: a 5xx, or a session the server side broke or timed out (as the canary counts it)."""
    return record.failed


def is_client_error(record: AccessRecord) -> bool:
    """A 4xx the server answered on purpose; a client that went away (termination C) is neither kind."""
    return 400 <= record.status < 500 and not record.failed


def latency_ms(record: AccessRecord) -> float | None:
    # Ta covers the whole exchange as the client saw it; a session that got no response has no latency.
    return None if record.response_ms is None or record.total_ms is None else float(record.total_ms)


def percentile(ordered: list[float], percent: int) -> float | None:
    """The nearest-rank percentile of sorted values: the smallest value with at least `percent`% of all values
    at or below it (integer arithmetic: 0.07 * 100 is 7.000000000000001 in floating point)."""
    if not ordered:
        return None
    rank = max(1, (percent * len(ordered) + 99) // 100)
    return ordered[rank - 1]


@dataclass(frozen=True)
class TrafficStats:
    requests: int = 0
    server_errors: int = 0
    client_errors: int = 0
    p50_ms: float | None = None  # None: no request of the window got a response
    p95_ms: float | None = None
    p99_ms: float | None = None
    max_ms: float | None = None

    @property
    def error_rate(self) -> float:
        return self.server_errors / self.requests if self.requests else 0.0

    @property
    def client_error_rate(self) -> float:
        return self.client_errors / self.requests if self.requests else 0.0


@dataclass(frozen=True)
class ApiWindow:
    api: str
    start: float  # Unix seconds
    end: float
    total: TrafficStats
    operations: dict[str, TrafficStats] = field(default_factory=dict)  # by spec operation, busiest first
    servers: dict[str, int] = field(default_factory=dict)  # requests per HAProxy server of the API's backend

    @property
    def window_s(self) -> float:
        return max(self.end - self.start, 0.001)

    @property
    def requests_per_s(self) -> float:
        return self.total.requests / self.window_s


class _Samples:
    __slots__ = ("requests", "server_errors", "client_errors", "latencies")

    def __init__(self) -> None:
        self.requests = self.server_errors = self.client_errors = 0
        self.latencies: list[float] = []

    def add(self, server_error: bool, client_error: bool, latency: float | None) -> None:
        self.requests += 1
        self.server_errors += server_error
        self.client_errors += client_error
        if latency is not None:
            self.latencies.append(latency)

    def stats(self) -> TrafficStats:
        ordered = sorted(self.latencies)
        return TrafficStats(self.requests, self.server_errors, self.client_errors, percentile(ordered, 50),
                            percentile(ordered, 95), percentile(ordered, 99), ordered[-1] if ordered else None)


class _ApiSamples:
    def __init__(self) -> None:
        self.total = _Samples()
        self.operations: dict[str, _Samples] = {}
        self.servers: Counter[str] = Counter()


class WindowAggregator:
    """The records of one window, kept per API and operation for the APIs given; other backends (mocks,
    unrouted requests, APIs with no production release) are left out."""

    def __init__(self, operation_of: Mapping[str, OperationOf]) -> None:
        self._operation_of = operation_of
        self._apis: dict[str, _ApiSamples] = {}

    def add(self, records: Iterable[AccessRecord]) -> None:
        for record in records:
            operation_of = self._operation_of.get(record.backend)
            if operation_of is None:
                continue
            samples = self._apis.setdefault(record.backend, _ApiSamples())
            sample = (is_server_error(record), is_client_error(record), latency_ms(record))
            samples.total.add(*sample)
            operation = operation_of(record.method, record.path)
            samples.operations.setdefault(operation, _Samples()).add(*sample)
            samples.servers[record.server or NO_SERVER] += 1

    def windows(self, start: float, end: float) -> list[ApiWindow]:
        """A window per API that had requests, by API name."""
        found = []
        for api in sorted(self._apis):
            samples = self._apis[api]
            operations = sorted(samples.operations.items(), key=lambda item: (-item[1].requests, item[0]))
            found.append(ApiWindow(api, start, end, samples.total.stats(),
                                   {name: s.stats() for name, s in operations}, dict(samples.servers.most_common())))
        return found
