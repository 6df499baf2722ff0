"""How the production monitor reads the access log: a first tick starts at its end, each later tick reads only
what was written since (its cost, counted in bytes read, follows the new lines and not the file's size), a
rotation loses and repeats nothing, a backlog is read in bounded ticks, and a judgement on demand reads only
the log's end."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from apiops_pipelines.delivery.operation_matcher import OperationMatcher
from apiops_pipelines.monitor.log_window import MonitorCursor, recent_records
from apiops_pipelines.monitor.tick import monitor_tick

T0 = 1_700_000_000.0
SHOP = {"shop": OperationMatcher({}, prefix="/shop").operation}


def line(n: int, t: float | None = None, backend: str = "shop") -> str:
    return (f"apiops1 {T0 + n if t is None else t:.3f} fe_production {backend} shop-a 200 0 0 0 1 2 10 0 ---- 0 "
            f"GET /shop/items/{n}\n")  # fmt: skip


def append(log: Path, numbers: range, **options) -> None:
    with log.open("a") as out:
        out.write("".join(line(n, **options) for n in numbers))


def bytes_read() -> int:
    """What this process has read through read(2) so far (Linux /proc/self/io: rchar)."""
    for entry in Path("/proc/self/io").read_text().splitlines():
        if entry.startswith("rchar:"):
            return int(entry.split()[1])
    raise AssertionError("no rchar in /proc/self/io")


needs_proc_io = pytest.mark.skipif(not os.path.exists("/proc/self/io"), reason="counts bytes through /proc/self/io")


def big_log(log: Path, megabytes: int) -> None:
    block = "".join(line(n, t=T0 - 3600, backend="orders") for n in range(10_000))
    with log.open("w") as out:
        for _ in range(megabytes * 1024 * 1024 // len(block) + 1):
            out.write(block)


def test_a_first_tick_starts_at_the_end_of_the_log_and_the_next_reads_what_came_after(tmp_path: Path):
    log = tmp_path / "access.log"
    append(log, range(100))
    first = monitor_tick(log, None, SHOP, now=T0 + 200)
    assert first.started and first.windows == [] and first.cursor.log.offset == log.stat().st_size
    append(log, range(100, 103))
    second = monitor_tick(log, first.cursor.as_text(), SHOP, now=T0 + 260)
    assert not second.started and second.records == 3
    (window,) = second.windows
    assert (window.total.requests, window.start, window.end) == (3, T0 + 200, T0 + 260)
    assert monitor_tick(log, second.cursor.as_text(), SHOP, now=T0 + 320).windows == []


def test_a_first_tick_before_the_log_exists_reads_it_from_its_start_once_it_does(tmp_path: Path):
    log = tmp_path / "access.log"
    first = monitor_tick(log, None, SHOP, now=T0)
    append(log, range(5))
    assert monitor_tick(log, first.cursor.as_text(), SHOP, now=T0 + 60).records == 5


@needs_proc_io
def test_a_ticks_cost_follows_the_new_lines_not_the_size_of_the_log(tmp_path: Path):
    """A tick that read the whole log would read 24 MB each minute of a busy day (the log grows to 256 MB)."""
    log = tmp_path / "access.log"
    big_log(log, 24)
    size = log.stat().st_size
    before = bytes_read()
    first = monitor_tick(log, None, SHOP, now=T0)
    append(log, range(10))
    second = monitor_tick(log, first.cursor.as_text(), SHOP, now=T0 + 60)
    cost = bytes_read() - before
    assert second.windows[0].total.requests == 10
    assert cost < 64 * 1024 < size // 300  # ten lines are ~900 bytes; the log holds 24 MB


def test_a_rotation_between_ticks_loses_and_repeats_nothing(tmp_path: Path):
    log = tmp_path / "access.log"
    append(log, range(3))
    cursor = monitor_tick(log, None, SHOP, now=T0).cursor.as_text()
    append(log, range(3, 7))
    log.rename(tmp_path / "access.log.1")  # what the gateway does when HAProxy starts
    append(log, range(7, 9))
    tick = monitor_tick(log, cursor, SHOP, now=T0 + 60)
    assert tick.windows[0].total.requests == 6
    append(log, range(9, 10))
    assert monitor_tick(log, tick.cursor.as_text(), SHOP, now=T0 + 120).windows[0].total.requests == 1


def test_a_backlog_is_read_in_bounded_ticks_each_window_ending_at_its_last_record(tmp_path: Path):
    log = tmp_path / "access.log"
    log.touch()
    cursor = monitor_tick(log, None, SHOP, now=T0).cursor.as_text()
    append(log, range(1, 6001))  # ~540 kB written while the monitor was not looking
    seen, ticks, backlogged = 0, 0, 0
    while ticks < 100:
        ticks += 1
        tick = monitor_tick(log, cursor, SHOP, now=T0 + 7000, max_bytes=50_000)
        assert tick.records * len(line(1)) <= 50_000  # bounded: no tick reads more than its share
        if tick.backlog:
            backlogged += 1
            assert tick.windows[0].end == T0 + seen + tick.records  # the window ends at the last record read
        seen += tick.records
        cursor = tick.cursor.as_text()
        if not tick.backlog:
            assert tick.windows[0].end == T0 + 7000
            break
    assert seen == 6000 and backlogged >= 5


def test_a_cursor_survives_as_text_and_an_unreadable_one_restarts_at_the_end(tmp_path: Path):
    log = tmp_path / "access.log"
    append(log, range(4))
    cursor = MonitorCursor.from_text(monitor_tick(log, None, SHOP, now=T0).cursor.as_text())
    assert cursor is not None and cursor.window_start == T0 and cursor.breaching == ()
    for garbage in ("", "12:34:56", '{"log": "1:2"}', "[]"):
        assert MonitorCursor.from_text(garbage) is None
        assert monitor_tick(log, garbage, SHOP, now=T0).started


@needs_proc_io
def test_a_judgement_on_demand_reads_the_end_of_the_log_back_to_its_window_only(tmp_path: Path):
    log = tmp_path / "access.log"
    big_log(log, 24)
    with log.open("a") as out:  # the last two minutes: one request a second
        out.write("".join(line(n, t=T0 + n) for n in range(120)))
    before = bytes_read()
    records, start = recent_records(log, since=T0 + 60)
    cost = bytes_read() - before
    assert [r.time for r in records] == [T0 + n for n in range(60, 120)] and start == T0 + 60
    assert cost < 3 * 1024 * 1024  # growing tails back past the window's start, not 24 MB


def test_a_judgement_on_demand_cut_short_by_its_byte_bound_says_where_its_window_begins(tmp_path: Path):
    log = tmp_path / "access.log"
    append(log, range(1000), t=None)
    records, start = recent_records(log, since=T0 - 10, max_bytes=9_000)
    assert 0 < len(records) < 1000 and start == records[0].time > T0


def test_a_judgement_on_demand_just_after_a_rotation_reads_the_rotated_file_too(tmp_path: Path):
    log = tmp_path / "access.log"
    append(log, range(0, 100))
    log.rename(tmp_path / "access.log.1")
    append(log, range(100, 110))
    records, start = recent_records(log, since=T0 + 95)
    assert [r.time for r in records] == [T0 + n for n in range(95, 110)] and start == T0 + 95
