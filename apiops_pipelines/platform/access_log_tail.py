"""Reading the gateway's access log as it grows: only the lines written since the last read.

A cursor is the file's identity (device, inode) and a byte offset after the last complete line. The gateway
rotates the log only when HAProxy starts (`access.log` becomes `access.log.1`); a read after a rotation
finishes the old file from the cursor (over as many reads as its bound takes), then reads the new one from its
start, so no request is lost or read twice. Each read is bounded in bytes; what is left is read next time. The
cost of a read follows the new lines, never the file's size.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from apiops_pipelines.platform.access_log import AccessRecord, parse_line

MAX_READ_BYTES = 64 * 1024 * 1024  # per read; the rest waits for the next one


@dataclass(frozen=True)
class LogCursor:
    device: int = 0
    inode: int = 0
    offset: int = 0

    def as_text(self) -> str:
        return f"{self.device}:{self.inode}:{self.offset}"

    @classmethod
    def from_text(cls, text: str | None) -> LogCursor | None:
        try:
            device, inode, offset = (int(part) for part in (text or "").split(":"))
        except ValueError:
            return None
        return cls(device, inode, offset)


class AccessLogTail:
    """New records of one access log (and its rotated predecessor), from a cursor on."""

    def __init__(self, path: Path | str, cursor: LogCursor | None = None) -> None:
        self.path = Path(path)
        self.cursor = cursor

    def start_at_end(self) -> AccessLogTail:
        """Skip what the log holds now: only requests from here on are read."""
        try:
            stat = self.path.stat()
            self.cursor = LogCursor(stat.st_dev, stat.st_ino, stat.st_size)
        except FileNotFoundError:
            self.cursor = LogCursor()
        return self

    def read(self, max_bytes: int = MAX_READ_BYTES) -> list[AccessRecord]:
        lines = self.read_lines(max_bytes)
        return [record for record in map(parse_line, lines) if record is not None]

    def read_lines(self, max_bytes: int = MAX_READ_BYTES) -> list[str]:
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return []
        cursor = self.cursor or LogCursor()
        lines: list[str] = []
        if (cursor.device, cursor.inode) != (stat.st_dev, stat.st_ino) and cursor.inode:
            rotated = self.path.with_name(self.path.name + ".1")
            try:
                old = rotated.stat()
            except FileNotFoundError:
                old = None  # rotated away twice since the last read: those lines are gone
            if old is not None and (old.st_dev, old.st_ino) == (cursor.device, cursor.inode):
                lines, offset = _read_from(rotated, cursor.offset, max_bytes)
                if old.st_size - cursor.offset > max_bytes and offset > cursor.offset:
                    # The bound stopped the read inside the rotated file: the rest of it comes next time,
                    # before anything of the new file.
                    self.cursor = LogCursor(cursor.device, cursor.inode, offset)
                    return lines
            cursor = LogCursor(stat.st_dev, stat.st_ino, 0)
        elif not cursor.inode:
            cursor = LogCursor(stat.st_dev, stat.st_ino, cursor.offset)
        if stat.st_size < cursor.offset:  # truncated in place: start again from its beginning
            cursor = LogCursor(stat.st_dev, stat.st_ino, 0)
        fresh, offset = _read_from(self.path, cursor.offset, max_bytes)
        self.cursor = LogCursor(cursor.device, cursor.inode, offset)
        return lines + fresh


def _read_from(path: Path, offset: int, max_bytes: int) -> tuple[list[str], int]:
    """Complete lines from `offset` on (at most about `max_bytes`), and the offset after the last of them."""
    with open(path, "rb") as handle:
        handle.seek(offset)
        data = handle.read(max_bytes)
    end = data.rfind(b"\n") + 1  # a line still being written waits for its newline
    if end == 0:
        return [], offset
    text = data[:end].decode("utf-8", "replace")
    return text.splitlines(), offset + end


