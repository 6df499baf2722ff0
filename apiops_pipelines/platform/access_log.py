"""HAProxy's per-request log: the format the gateway writes and a parser for the canary analysis.

One line per request on the production frontend, space separated, the request path last (an HTTP path
holds no space). Timers are HAProxy's, in milliseconds, None where HAProxy logs -1 (the phase did not
happen: no server connection for a 404 of the frontend or a 503 with no server up).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

TAG = "apiops1"  # first field: lets the reader skip anything else that reaches the file
# The backend is the platform's name for it (`shop`, `mock-shop`), set by the frontend from its routing
# map: HAProxy's own %b may be a spare slot that carries the API until the next reload (haproxy_layout.py).
# %TR request received, %Tw queue, %Tc connect, %Tr server response headers, %Ta whole request,
# %B bytes to the client, %U bytes from the client, %tsc termination state, %rc retries.
LOG_FORMAT = f"{TAG} %Ts.%ms %ft %[var(txn.backend,be_unrouted)] %s %ST %TR %Tw %Tc %Tr %Ta %B %U %tsc %rc %HM %HPO"
_FIELDS = 17


@dataclass(frozen=True)
class AccessRecord:
    time: float  # accept date, Unix seconds with milliseconds
    frontend: str
    backend: str
    server: str | None  # None: no server was chosen (<NOSRV>)
    status: int
    request_ms: int | None  # TR
    queue_ms: int | None  # Tw
    connect_ms: int | None  # Tc
    response_ms: int | None  # Tr
    total_ms: int | None  # Ta
    bytes_out: int
    bytes_in: int
    termination: str  # e.g. ---- or SC--; the first two letters say who ended the session, and when
    retries: int
    method: str
    path: str

    @property
    def server_side_broken(self) -> bool:
        """The server side ended the session abnormally (error, timeout, resources, server down), by the first
        letter of the termination state. A client that went away (C or c) is not the release's failure."""
        return self.termination[:1] in ("S", "s", "R", "I", "D", "K")

    @property
    def failed(self) -> bool:
        """A 5xx, or a session the server side broke."""
        return self.status >= 500 or self.server_side_broken


def _timer(value: str) -> int | None:
    number = int(value)
    return None if number < 0 else number


def parse_line(line: str) -> AccessRecord | None:
    """The record of one log line, or None for a line that is not a request record of this format."""
    fields = line.rstrip("\n").split(" ", _FIELDS - 1)
    if len(fields) != _FIELDS or fields[0] != TAG:
        return None
    try:
        return AccessRecord(
            time=float(fields[1]),
            frontend=fields[2],
            backend=fields[3],
            server=None if fields[4] == "<NOSRV>" else fields[4],
            status=int(fields[5]),
            request_ms=_timer(fields[6]),
            queue_ms=_timer(fields[7]),
            connect_ms=_timer(fields[8]),
            response_ms=_timer(fields[9]),
            total_ms=_timer(fields[10]),
            bytes_out=int(fields[11].lstrip("+")),
            bytes_in=int(fields[12].lstrip("+")),
            termination=fields[13],
            retries=int(fields[14].lstrip("+")),
            method=fields[15],
            path=fields[16],
        )
    except ValueError:
        return None


def read_access_log(
    path: Path | str, *, since: float | None = None, until: float | None = None, backend: str | None = None
) -> Iterator[AccessRecord]:
    """Records of the log (its rotated predecessor `.1` first), optionally within [since, until) and of one backend."""
    path = Path(path)
    for file in (path.with_name(path.name + ".1"), path):
        if not file.exists():
            continue
        with open(file, encoding="utf-8", errors="replace") as handle:
            for line in handle:
                record = parse_line(line)
                if record is None:
                    continue
                if since is not None and record.time < since or until is not None and record.time >= until:
                    continue
                if backend is None or record.backend == backend:
                    yield record
