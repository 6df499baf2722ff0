"""Locust's statistics as they stand when the run ends, read from the two files it writes at shutdown.

`--json-file <prefix>` writes `<prefix>.json`: one entry per endpoint with its counters and its response-time
histogram ({bucketed ms: count}), but neither the aggregate nor the errors nor when the run started. The
aggregate is merged here the way locust's own total accumulates; the errors, and the span locust divides
request counts by, come from the data locust embeds in its HTML report (`--html`), the one other file written
from the final numbers (the failures CSV, like the stats CSV, is a snapshot rewritten once a second). Both
formats are locust 2.47's; `UnreadableStats` says when a file does not look like it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from apiops_pipelines.load.stats import EndpointStats, ErrorStat, read_csv_stats

_HTML_DATA = "window.templateArgs = "  # the line of locust's report.html template that carries its data
_SNAPSHOT = "its last CSV snapshot, which misses up to the last second of the run"


class UnreadableStats(ValueError):
    """The file is missing or not in the shape locust 2.47 writes."""


@dataclass(frozen=True)
class RunStatistics:
    endpoints: tuple[EndpointStats, ...]
    total: EndpointStats
    errors: tuple[ErrorStat, ...]
    warnings: tuple[str, ...]  # where these numbers fall short of locust's final ones, and why


def read_run_statistics(prefix: Path, html: Path) -> RunStatistics | None:
    """Locust's final statistics (`<prefix>.json` and the `html` report); its last CSV snapshot where a final
    file is missing or unusable, with a warning saying so; None when it left no statistics at all."""
    snapshot = read_csv_stats(prefix) if Path(f"{prefix}_stats.csv").is_file() else None
    warnings, errors, span = [], [], None
    try:
        errors, span = read_html_report(html)
    except UnreadableStats as exc:
        errors = snapshot[2] if snapshot is not None else []
        warnings.append(f"locust's HTML report is unreadable ({exc}): errors are from {_SNAPSHOT}")
    try:
        endpoints, total = read_final_json(Path(f"{prefix}.json"), span)
        if snapshot is not None and snapshot[1].requests > total.requests:
            # counters only grow, so this file is not the master's: with --processes every worker writes the
            # same path at its own shutdown (with nothing left to report), and one may have come last
            raise UnreadableStats(f"{prefix.name}.json holds {total.requests} requests, fewer than the "
                                  f"{snapshot[1].requests} of the CSV snapshot before it")  # fmt: skip
    except UnreadableStats as exc:
        if snapshot is None:
            return None
        endpoints, total = snapshot[0], snapshot[1]
        warnings.append(f"locust's end-of-run statistics are unusable ({exc}): requests and latencies are from "
                        f"{_SNAPSHOT}")  # fmt: skip
    return RunStatistics(tuple(endpoints), total, tuple(errors), tuple(warnings))


def response_time_percentile(histogram: Mapping[float, int], requests: int, percent: float) -> float:
    """The smallest bucket that `percent` of `requests` finished within, walked as locust 2.47 walks it
    (`stats.calculate_response_time_percentile`), so a percentile here equals the one in locust's own report."""
    within = int(requests * percent)
    counted = 0
    for bucket in sorted(histogram, reverse=True):
        counted += histogram[bucket]
        if requests - counted <= within:
            return bucket
    return 0.0


def read_final_json(path: Path, span: float | None = None) -> tuple[list[EndpointStats], EndpointStats]:
    """The endpoints and their aggregate from `<prefix>.json` as written by `locust --json-file <prefix>`.
    `span`: the seconds locust divided request counts by (from the HTML report); without it, the span from
    the first to the last request logged, which starts a little later than locust's (at the run's start)."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(raw, list):
            raise TypeError("not a list of entries")
        entries = [_entry(item) for item in raw]
    except (OSError, ValueError, TypeError, KeyError, AttributeError) as exc:
        raise UnreadableStats(f"{path.name}: {exc}") from None
    if span is None:
        started = min((e["start_time"] for e in entries), default=0.0)
        last = max((e["last_request_timestamp"] for e in entries), default=0.0)
        span = last - started if started and last > started else 0.0
    # locust divides every entry's count by the span of all requests (its total's), not by the entry's own
    endpoints = sorted((_endpoint(e, span) for e in entries), key=lambda s: (s.name, s.method))
    return endpoints, _endpoint(_merged(entries), span)


def read_html_report(html: Path) -> tuple[list[ErrorStat], float | None]:
    """The error table locust embedded in its HTML report, in locust's order, and the span (seconds) its
    requests/s divide by: the aggregate's requests over its requests/s (None before any request)."""
    try:
        line = next((text.strip() for text in html.read_text(encoding="utf-8").splitlines()
                     if text.strip().startswith(_HTML_DATA)), None)  # fmt: skip
        if line is None:
            raise ValueError("no embedded statistics")
        data = json.loads(line[len(_HTML_DATA):])
        errors = [ErrorStat(str(row["method"] or ""), str(row["name"]), str(row["error"]), int(row["occurrences"]))
                  for row in data["failures_statistics"]]  # fmt: skip
        total = next(row for row in data["requests_statistics"] if row["name"] == "Aggregated" and not row["method"])
        requests, rps = int(total["num_requests"]), float(total["total_rps"])
    except (OSError, ValueError, TypeError, KeyError, StopIteration) as exc:
        raise UnreadableStats(f"{html.name}: {exc!r}") from None
    return errors, requests / rps if requests and rps > 0 else None


def _entry(item: dict[str, Any]) -> dict[str, Any]:
    histogram: dict[float, int] = {}
    for bucket, count in item["response_times"].items():  # JSON made the bucket keys strings
        histogram[float(bucket)] = histogram.get(float(bucket), 0) + int(count)
    return {"name": str(item["name"]), "method": str(item.get("method") or ""),
            "requests": int(item["num_requests"]), "none_requests": int(item.get("num_none_requests") or 0),
            "failures": int(item["num_failures"]), "total_ms": float(item["total_response_time"]),
            "max_ms": float(item["max_response_time"]), "histogram": histogram,
            "start_time": float(item["start_time"]),
            "last_request_timestamp": float(item.get("last_request_timestamp") or 0.0)}  # fmt: skip


def _merged(entries: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Locust's "Aggregated" entry: every request of every endpoint, logged once more in one place."""
    total: dict[str, Any] = {"name": "Aggregated", "method": "", "requests": 0, "none_requests": 0, "failures": 0,
                             "total_ms": 0.0, "max_ms": 0.0, "histogram": {}}  # fmt: skip
    for entry in entries:
        for key in ("requests", "none_requests", "failures", "total_ms"):
            total[key] += entry[key]
        total["max_ms"] = max(total["max_ms"], entry["max_ms"])
        for bucket, count in entry["histogram"].items():
            total["histogram"][bucket] = total["histogram"].get(bucket, 0) + count
    return total


def _endpoint(entry: dict[str, Any], span: float) -> EndpointStats:
    timed = entry["requests"] - entry["none_requests"]  # requests without a response time are in no histogram
    histogram = entry["histogram"]
    return EndpointStats(
        method=entry["method"],
        name=entry["name"],
        requests=entry["requests"],
        failures=entry["failures"],
        rps=entry["requests"] / span if span > 0 else 0.0,
        p50_ms=response_time_percentile(histogram, timed, 0.50),
        p95_ms=response_time_percentile(histogram, timed, 0.95),
        p99_ms=response_time_percentile(histogram, timed, 0.99),
        average_ms=entry["total_ms"] / timed if timed > 0 else 0.0,
        max_ms=entry["max_ms"],
    )
