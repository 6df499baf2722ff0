"""Which access-log lines make up a monitoring window.

A sensor tick reads the lines written since the previous tick: its cursor keeps the log position (device, inode,
offset, safe across the gateway's rotation; see platform/access_log_tail.py) and the time the window starts, so a
tick's cost follows the new lines, never the file's size (which grows to 256 MB before HAProxy's next start
rotates it). Each read is bounded; a backlog is worked off over the next ticks, each window then ending at the
last record read. A first tick starts at the log's end: what came before the monitor is not a window it saw.

A judgement on demand (the check executed from the UI) has no cursor: it reads the last seconds of traffic from
the end of the log, also bounded in bytes.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, replace
from pathlib import Path

from apiops_pipelines.platform.access_log import AccessRecord, parse_line
from apiops_pipelines.platform.access_log_tail import AccessLogTail, LogCursor

MAX_TICK_BYTES = 16 * 1024 * 1024  # ~150,000 requests a tick; more waits for the next tick
# HAProxy cuts a log line at its `len` (1,024 bytes by default): a peek this long after the cursor finds the end of
# any complete line that waits.
LINE_PEEK_BYTES = 64 * 1024
FIRST_TAIL_BYTES = 64 * 1024  # a judgement on demand reads the log's end in growing tails from this size
LONGEST_REQUEST_S = 60.0


@dataclass(frozen=True)
class MonitorCursor:
    log: LogCursor
    window_start: float  # Unix seconds: where the next window begins
    breaching: tuple[str, ...] = ()  # APIs whose last verdict was a breach (a breach notifies once, on entry)

    def as_text(self) -> str:
        return json.dumps({"log": self.log.as_text(), "since": self.window_start, "breaching": list(self.breaching)})

    @classmethod
    def from_text(cls, text: str | None) -> MonitorCursor | None:
        """The cursor a tick stored, or None when there is none or it cannot be read."""
        try:
            data = json.loads(text or "")
            log = LogCursor.from_text(data["log"])
            since = float(data["since"])
            breaching = tuple(str(api) for api in data.get("breaching", ()))
        except (ValueError, TypeError, KeyError, AttributeError):
            return None
        return cls(log, since, breaching) if log is not None else None


@dataclass(frozen=True)
class LogWindow:
    records: list[AccessRecord]  # every backend's: the caller keeps the APIs it watches
    start: float
    end: float
    cursor: MonitorCursor  # for the next tick
    backlog: bool  # the byte bound stopped this read: more lines wait


def start_at_end(path: Path, now: float) -> MonitorCursor:
    return MonitorCursor(AccessLogTail(path).start_at_end().cursor or LogCursor(), now)


def next_window(path: Path, cursor: MonitorCursor, now: float, max_bytes: int = MAX_TICK_BYTES) -> LogWindow:
    """The records written since `cursor` (at most about `max_bytes` of them; twice that in the tick that
    crosses a rotation), as the window from the cursor's start to now, or to the last record read when a
    backlog remains."""
    tail = AccessLogTail(path, cursor.log)
    records = tail.read(max_bytes)
    position = tail.cursor or cursor.log
    backlog = _lines_wait(path, position)
    end = max(records[-1].time, cursor.window_start) if backlog and records else max(now, cursor.window_start)
    return LogWindow(records, cursor.window_start, end, replace(cursor, log=position, window_start=end), backlog)


def _lines_wait(path: Path, position: LogCursor) -> bool:
    """Whether a complete line follows `position` (a line still being written does not count)."""
    try:
        with open(path, "rb") as handle:
            stat = os.fstat(handle.fileno())
            if (stat.st_dev, stat.st_ino) != (position.device, position.inode) or stat.st_size <= position.offset:
                return False  # nothing after the position, or no file at it yet (a log created after the first tick)
            handle.seek(position.offset)
            return b"\n" in handle.read(LINE_PEEK_BYTES)
    except FileNotFoundError:
        return False


def recent_records(path: Path, since: float, max_bytes: int = MAX_TICK_BYTES) -> tuple[list[AccessRecord], float]:
    """Records accepted at `since` or later, read from the end of the log (and of its rotated predecessor when
    the current file begins after `since`), at most about `max_bytes` in all; and when the window really begins:
    `since`, or the oldest record read when the byte bound cut the window short."""
    records: list[AccessRecord] = []
    budget, start = max_bytes, since
    for file in (path, path.with_name(path.name + ".1")):
        parsed, read, whole = _records_back_to(file, since, budget)
        budget -= read
        records = [record for record in parsed if record.time >= since] + records
        if _reaches(parsed, since):
            break
        if not whole or budget <= 0:
            if parsed:
                start = max(since, parsed[0].time)
            break
    return records, start


def _records_back_to(path: Path, since: float, budget: int) -> tuple[list[AccessRecord], int, bool]:
    """The records of a file's end, back past `since`: tails of 64 KiB, then four times more each time, within
    `budget` (so what is read stays within 4/3 of what is needed); the last tail's size, and whether it was the
    whole file."""
    size = FIRST_TAIL_BYTES
    while True:
        lines, read, whole = _last_lines(path, min(size, budget))
        parsed = [record for record in map(parse_line, lines) if record is not None]
        if whole or _reaches(parsed, since) or size >= budget:
            return parsed, read, whole
        size *= 4


def _reaches(parsed: list[AccessRecord], since: float) -> bool:
    # Lines are written when requests end, and times are when they began: a request begun after `since` may be
    # logged before one that began earlier and ran long. HAProxy cuts a server at 60 s (timeout server).
    return bool(parsed) and parsed[0].time <= since - LONGEST_REQUEST_S


def _last_lines(path: Path, max_bytes: int) -> tuple[list[str], int, bool]:
    """The complete lines of the last `max_bytes` of a file, the bytes read, and whether that was the whole file."""
    try:
        with open(path, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            offset = max(0, size - max_bytes)
            handle.seek(offset)
            data = handle.read(size - offset)
    except FileNotFoundError:
        return [], 0, True
    if offset > 0:
        data = data[data.find(b"\n") + 1:] if b"\n" in data else b""  # the first line is cut
    data = data[: data.rfind(b"\n") + 1]  # a line still being written is not a record yet
    return data.decode("utf-8", "replace").splitlines(), size - offset, offset == 0
