"""One tick of the production monitor: the access-log lines written since the last tick, as a window per API
that has a production release and traffic in it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from apiops_pipelines.monitor.log_window import MAX_TICK_BYTES, MonitorCursor, next_window, start_at_end
from apiops_pipelines.monitor.window import ApiWindow, OperationOf, WindowAggregator


@dataclass(frozen=True)
class MonitorTick:
    windows: list[ApiWindow]
    cursor: MonitorCursor  # for the next tick
    started: bool  # a first tick (or an unreadable cursor): started at the log's end, no window yet
    backlog: bool  # more lines wait than one tick reads
    records: int  # access-log records read, every backend's


def monitor_tick(log: Path, cursor_text: str | None, operation_of: Mapping[str, OperationOf], now: float,
                 max_bytes: int = MAX_TICK_BYTES) -> MonitorTick:  # fmt: skip
    """`operation_of` holds the APIs with a production release: each one's matcher of spec operations."""
    cursor = MonitorCursor.from_text(cursor_text)
    if cursor is None:
        return MonitorTick([], start_at_end(log, now), started=True, backlog=False, records=0)
    window = next_window(log, cursor, now, max_bytes)
    aggregator = WindowAggregator(operation_of)
    aggregator.add(window.records)
    return MonitorTick(aggregator.windows(window.start, window.end), window.cursor, started=False,
                       backlog=window.backlog, records=len(window.records))  # fmt: skip
