"""A load run's results (`LoadReport`: requests/s, percentiles per endpoint, errors), and the reader of
locust's CSV statistics, the fallback when its end-of-run statistics are missing (see `final_stats`).

Locust rounds response times into buckets before computing percentiles (exact below 100 ms, to 10 ms below
1 s, to 100 ms above), so percentiles here are as precise as its own HTML report and no more. The CSV is a
snapshot locust rewrites once a second, and a single locust process does not write it again at shutdown:
read alone, it misses up to the last second of the run.
"""

from __future__ import annotations

import csv
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class EndpointStats:
    method: str  # "" for the aggregate row
    name: str  # the path template, or "Aggregated"
    requests: int
    failures: int
    rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    average_ms: float
    max_ms: float

    @property
    def key(self) -> str:
        return f"{self.method} {self.name}".strip()

    @property
    def error_rate(self) -> float:
        return self.failures / self.requests if self.requests else 0.0


@dataclass(frozen=True)
class ErrorStat:
    method: str
    name: str
    error: str
    occurrences: int


@dataclass(frozen=True)
class LoadReport:
    endpoints: tuple[EndpointStats, ...]
    total: EndpointStats
    errors: tuple[ErrorStat, ...] = ()
    users: int = 0
    duration_s: float = 0.0
    processes: int = 1
    locustfile: str = ""  # the API's file, or "generated from the spec"
    warnings: tuple[str, ...] = ()  # what locust warned about (a load generator over 90% CPU), or final files missed
    files: dict[str, Path] = field(default_factory=dict)  # html, json, csv, log, locustfile, plan

    def endpoint(self, key: str) -> EndpointStats | None:
        return next((e for e in self.endpoints if e.key == key), None)

    def to_baseline(self) -> dict[str, Any]:
        """What a later run's regression gate compares with (store it with the production release)."""
        def numbers(stats: EndpointStats) -> dict[str, float]:
            return {k: v for k, v in asdict(stats).items() if k not in ("method", "name")}

        return {"version": 1, "total": numbers(self.total), "endpoints": {e.key: numbers(e) for e in self.endpoints}}


def read_csv_stats(prefix: Path) -> tuple[list[EndpointStats], EndpointStats, list[ErrorStat]]:
    """`<prefix>_stats.csv` and `<prefix>_failures.csv` as last written by `locust --csv <prefix>`."""
    endpoints, total = [], None
    with open(f"{prefix}_stats.csv", newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            stats = _endpoint(row)
            if row.get("Name") == "Aggregated" and not row.get("Type"):
                total = stats
            else:
                endpoints.append(stats)
    if total is None:
        total = EndpointStats("", "Aggregated", 0, 0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
    errors = []
    failures_file = Path(f"{prefix}_failures.csv")
    if failures_file.is_file():
        with failures_file.open(newline="", encoding="utf-8") as handle:
            errors = [ErrorStat(row.get("Method", ""), row.get("Name", ""), row.get("Error", ""),
                                int(_number(row.get("Occurrences"))))
                      for row in csv.DictReader(handle)]  # fmt: skip
    return endpoints, total, errors


def _endpoint(row: dict[str, str]) -> EndpointStats:
    return EndpointStats(
        method=row.get("Type") or "",
        name=row.get("Name") or "",
        requests=int(_number(row.get("Request Count"))),
        failures=int(_number(row.get("Failure Count"))),
        rps=_number(row.get("Requests/s")),
        p50_ms=_number(row.get("50%")),
        p95_ms=_number(row.get("95%")),
        p99_ms=_number(row.get("99%")),
        average_ms=_number(row.get("Average Response Time")),
        max_ms=_number(row.get("Max Response Time")),
    )


def _number(text: str | None) -> float:
    try:
        return float(text) if text not in (None, "", "N/A") else 0.0
    except ValueError:
        return 0.0
