"""The access log read as it grows: only new complete lines, across HAProxy's rotation at start, never twice."""

from __future__ import annotations

from pathlib import Path

from apiops_pipelines.platform.access_log_tail import AccessLogTail, LogCursor


def line(n: int, backend: str = "shop") -> str:
    return f"apiops1 1700000000.{n:03d} fe_production {backend} s1 200 0 0 0 1 2 10 0 ---- 0 GET /shop/items/{n}\n"


def test_only_lines_written_since_the_last_read_come_back(tmp_path: Path):
    log = tmp_path / "access.log"
    log.write_text(line(1) + line(2))
    tail = AccessLogTail(log).start_at_end()
    assert tail.read() == []
    with log.open("a") as out:
        out.write(line(3) + line(4)[:20])  # the last line is still being written
    assert [r.path for r in tail.read()] == ["/shop/items/3"]
    with log.open("a") as out:
        out.write(line(4)[20:])
    assert [r.path for r in tail.read()] == ["/shop/items/4"]
    assert tail.read() == []


def test_a_rotation_finishes_the_old_file_then_reads_the_new_one(tmp_path: Path):
    log = tmp_path / "access.log"
    log.write_text(line(1))
    tail = AccessLogTail(log).start_at_end()
    with log.open("a") as out:
        out.write(line(2))
    log.rename(tmp_path / "access.log.1")  # what the gateway does when HAProxy starts
    log.write_text(line(3))
    assert [r.path for r in tail.read()] == ["/shop/items/2", "/shop/items/3"]
    assert tail.read() == []


def test_a_cursor_survives_as_text_and_a_truncated_log_is_read_from_its_start(tmp_path: Path):
    log = tmp_path / "access.log"
    log.write_text(line(1) + line(2))
    tail = AccessLogTail(log)
    assert len(tail.read()) == 2
    again = AccessLogTail(log, LogCursor.from_text(tail.cursor.as_text()))
    assert again.read() == []
    log.write_text(line(5))  # truncated and rewritten in place
    assert [r.path for r in again.read()] == ["/shop/items/5"]
    assert LogCursor.from_text("garbage") is None


def test_each_read_is_bounded_and_the_rest_waits(tmp_path: Path):
    log = tmp_path / "access.log"
    log.write_text("".join(line(n) for n in range(100)))
    tail = AccessLogTail(log)
    first = tail.read(max_bytes=1000)
    assert 0 < len(first) < 100
    rest = tail.read()
    assert len(first) + len(rest) == 100


def test_a_backlog_in_the_rotated_file_is_finished_over_bounded_reads_before_the_new_file(tmp_path: Path):
    """The offset reached in access.log.1 was dropped and the cursor moved to the new file: 79 of 100 lines of
    the rotated file's backlog were lost."""
    log = tmp_path / "access.log"
    log.write_text("")
    tail = AccessLogTail(log).start_at_end()
    log.write_text("".join(line(n) for n in range(100)))
    log.rename(tmp_path / "access.log.1")
    log.write_text(line(900) + line(901))
    paths = []
    for _ in range(20):
        paths += [r.path for r in tail.read(max_bytes=1000)]
    assert paths == [f"/shop/items/{n}" for n in (*range(100), 900, 901)]
    assert tail.read() == []
