"""The requests bench/mock.py sends, as a wrk Lua script, and the parsing of wrk's `--latency` report."""

from __future__ import annotations

import json
import os
import re
from dataclasses import asdict, dataclass
from pathlib import Path

_BOOK = {"title": "Middlemarch", "author": {"name": "George Eliot", "country": "GB"}, "isbn": "9780141439549",
         "price": 11.5, "currency": "GBP", "tags": ["classic"]}  # fmt: skip
_JSON = {"Accept": "application/json"}

# (method, path, headers, body): a path parameter, a list with query parameters, an authenticated JSON POST.
REQUESTS: list[tuple[str, str, dict[str, str], bytes | None]] = [
    ("GET", "/books/1", _JSON, None),
    ("GET", "/books?limit=10&offset=0", _JSON, None),
    ("POST", "/books", {**_JSON, "Content-Type": "application/json", "Authorization": "Bearer bench-token"},
     json.dumps(_BOOK).encode()),
]  # fmt: skip


def _lua_string(text: str) -> str:
    return json.dumps(text)  # a JSON string literal is a valid Lua string literal for this ASCII text


def _lua_script() -> str:
    """Requests formatted once per wrk thread, then cycled: no Lua work per request beyond an index.

    Formatting happens in `init`, after wrk has set its Host header: formatted at the script's top level,
    the requests carry no Host, which uvicorn accepts and Node.js answers with 400 (HTTP/1.1 requires it).
    """
    lines = ["local requests = {}", "init = function(args)"]
    for index, (method, path, headers, body) in enumerate(REQUESTS, 1):
        table = ", ".join(f"[{_lua_string(k)}] = {_lua_string(v)}" for k, v in headers.items())
        payload = _lua_string(body.decode()) if body is not None else "nil"
        lines.append(f"  requests[{index}] = wrk.format({_lua_string(method)}, {_lua_string(path)}, {{{table}}}, "
                     f"{payload})")  # fmt: skip
    lines += ["end", "local i = 0", "request = function()", "  i = i % #requests + 1", "  return requests[i]", "end"]
    return "\n".join(lines) + "\n"


LUA_SCRIPT = _lua_script()

_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}
_DURATION = re.compile(r"([0-9.]+)(us|ms|s|m)\b")


@dataclass(frozen=True)
class WrkResult:
    requests_per_s: float
    requests: int
    p50_ms: float
    p75_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    non_2xx_3xx: int
    socket_errors: int
    server_cpu_s: float = 0.0  # CPU time the server's processes used during the run (filled in by the caller)

    @property
    def requests_per_cpu_s(self) -> float:
        return self.requests / self.server_cpu_s if self.server_cpu_s else 0.0

    def as_json(self) -> dict[str, float | int]:
        return {**asdict(self), "requests_per_cpu_s": self.requests_per_cpu_s}


def _ms(text: str) -> float:
    match = _DURATION.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"not a wrk duration: {text!r}")
    return float(match.group(1)) * _UNITS_MS[match.group(2)]


def parse_wrk(output: str) -> WrkResult:
    """The numbers of wrk's report; ValueError naming what is missing."""

    def find(pattern: str) -> re.Match[str]:
        match = re.search(pattern, output, re.MULTILINE)
        if match is None:
            raise ValueError(f"wrk output lacks {pattern!r}:\n{output}")
        return match

    percentiles = {int(p): _ms(v) for p, v in re.findall(r"^\s+(50|75|90|99)%\s+(\S+)\s*$", output, re.MULTILINE)}
    if len(percentiles) != 4:
        raise ValueError(f"wrk output lacks the latency distribution (run with --latency):\n{output}")
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return WrkResult(
        requests_per_s=float(find(r"^Requests/sec:\s+([0-9.]+)").group(1)),
        requests=int(find(r"^\s+(\d+) requests in").group(1)),
        p50_ms=percentiles[50],
        p75_ms=percentiles[75],
        p90_ms=percentiles[90],
        p99_ms=percentiles[99],
        max_ms=_ms(find(r"^\s+Latency\s+\S+\s+\S+\s+(\S+)").group(1)),
        non_2xx_3xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=sum(int(n) for n in errors.groups()) if errors else 0,
    )


def tree_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process and its live children so far (Linux /proc): what a server
    and its worker processes spent, which other load on the machine does not inflate."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # the process ended meanwhile
        if entry.name == str(pid) or fields[1] == str(pid):  # fields[1]: the parent's pid
            total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
    return total
