"""HAProxy's runtime API over its Unix socket: servers, weights and states changed with no reload.

Each command opens one connection (HAProxy answers and closes it). HAProxy's answers are free text:
success is recognised per command, and anything else is raised with HAProxy's words quoted.
"""

from __future__ import annotations

import csv
import io
import re
import socket
from pathlib import Path

from apiops_pipelines.platform.state import ServerState

_NAME = re.compile(r"[A-Za-z0-9_.:-]+\Z")
_OPTIONS = re.compile(r"[^;\n\r#]*\Z")
# Admin state bits of `show servers state` (srv_admin_state).
_MAINT_BITS = 0x01 | 0x02 | 0x04 | 0x20 | 0x40
_DRAIN_BITS = 0x08 | 0x10


class HAProxyRuntimeError(RuntimeError):
    """HAProxy refused a runtime command, or its socket did not answer."""


def admin_state(row: dict[str, str]) -> ServerState:
    """ready, drain or maint, from a row of `servers_state()`."""
    bits = int(row["srv_admin_state"])
    return "maint" if bits & _MAINT_BITS else "drain" if bits & _DRAIN_BITS else "ready"


class HAProxyRuntime:
    def __init__(self, socket_path: Path | str, timeout: float = 5.0) -> None:
        self.socket_path = str(socket_path)
        self.timeout = timeout

    def command(self, line: str) -> str:
        """Send one command; HAProxy's whole answer."""
        if "\n" in line or ";" in line:
            raise HAProxyRuntimeError(f"refusing to send {line!r}: one command, no ';' or newline")
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                sock.settimeout(self.timeout)
                sock.connect(self.socket_path)
                sock.sendall(line.encode() + b"\n")
                chunks = []
                while chunk := sock.recv(65536):
                    chunks.append(chunk)
        except OSError as exc:
            raise HAProxyRuntimeError(f"HAProxy's runtime API at {self.socket_path} did not answer: {exc}") from None
        return b"".join(chunks).decode(errors="replace")

    def is_up(self) -> bool:
        try:
            return "Pid:" in self.command("show info")
        except HAProxyRuntimeError:
            return False

    def _expect(self, line: str, ok: str | None) -> str:
        """Run `line`; `ok` is the text of success, None when HAProxy answers success with nothing."""
        answer = self.command(line)
        text = answer.strip()
        if (ok is None and text) or (ok is not None and ok not in text):
            raise HAProxyRuntimeError(f"HAProxy refused '{line}': {text or '(no answer)'}")
        return text

    @staticmethod
    def _target(backend: str, server: str) -> str:
        for name in (backend, server):
            if not _NAME.match(name):
                raise HAProxyRuntimeError(f"{name!r} is not a valid HAProxy backend or server name")
        return f"{backend}/{server}"

    def add_server(self, backend: str, server: str, options: str) -> None:
        """Add a server; HAProxy creates it in maintenance, with its health check off."""
        if not _OPTIONS.match(options):
            raise HAProxyRuntimeError(f"server options {options!r} hold a ';', '#' or newline")
        self._expect(f"add server {self._target(backend, server)} {options}", "New server registered.")

    def enable_server(self, backend: str, server: str) -> None:
        self._expect(f"enable server {self._target(backend, server)}", None)

    def enable_health(self, backend: str, server: str) -> None:
        self._expect(f"enable health {self._target(backend, server)}", None)

    def set_weight(self, backend: str, server: str, weight: int) -> None:
        self._expect(f"set server {self._target(backend, server)} weight {int(weight)}", None)

    def set_state(self, backend: str, server: str, state: ServerState) -> None:
        if state not in ("ready", "drain", "maint"):
            raise HAProxyRuntimeError(f"{state!r} is not a server state (ready, drain, maint)")
        self._expect(f"set server {self._target(backend, server)} state {state}", None)

    def set_address(self, backend: str, server: str, host: str, port: int) -> None:
        answer = self.command(f"set server {self._target(backend, server)} addr {host} port {int(port)}").strip()
        if "changed from" not in answer and "no need to change" not in answer:
            raise HAProxyRuntimeError(f"HAProxy refused the address {host}:{port} for {backend}/{server}: {answer}")

    def shutdown_sessions(self, backend: str, server: str) -> None:
        self._expect(f"shutdown sessions server {self._target(backend, server)}", None)

    def del_server(self, backend: str, server: str) -> None:
        """Delete a server; HAProxy requires it in maintenance with no connection left."""
        self._expect(f"del server {self._target(backend, server)}", "Server deleted.")

    def servers_state(self, backend: str | None = None) -> list[dict[str, str]]:
        """Rows of `show servers state`: be_name, srv_name, srv_addr, srv_port, srv_op_state, srv_admin_state,
        srv_uweight, ... (see `admin_state()`)."""
        if backend is not None and not _NAME.match(backend):
            raise HAProxyRuntimeError(f"{backend!r} is not a valid HAProxy backend name")
        answer = self.command(f"show servers state {backend}" if backend else "show servers state")
        lines = [line for line in answer.splitlines() if line.strip()]
        header = next((line for line in lines if line.startswith("# ")), None)
        if header is None:
            raise HAProxyRuntimeError(f"unexpected answer to 'show servers state': {answer.strip()[:300]}")
        names = header[2:].split()
        return [dict(zip(names, line.split())) for line in lines if not line.startswith("#") and " " in line]

    def backends(self) -> list[str]:
        """The names of the backends HAProxy runs with (`show backend`)."""
        answer = self.command("show backend")
        if not answer.startswith("# name"):
            raise HAProxyRuntimeError(f"unexpected answer to 'show backend': {answer.strip()[:300]}")
        return [line.strip() for line in answer.splitlines()[1:] if line.strip()]

    def show_map(self, path: Path | str) -> dict[str, str]:
        """The entries of a map HAProxy loaded from `path` (key -> value, as it holds them now)."""
        answer = self.command(f"show map {self._map(path)}")
        entries = {}
        for line in answer.splitlines():
            parts = line.split(" ", 2)
            if len(parts) == 3 and parts[0].startswith("0x"):
                entries[parts[1]] = parts[2]
            elif line.strip():
                raise HAProxyRuntimeError(f"unexpected answer to 'show map {path}': {answer.strip()[:300]}")
        return entries

    def add_map(self, path: Path | str, key: str, value: str) -> None:
        self._expect(f"add map {self._map(path)} {self._word(key)} {self._word(value)}", None)

    def set_map(self, path: Path | str, key: str, value: str) -> None:
        self._expect(f"set map {self._map(path)} {self._word(key)} {self._word(value)}", None)

    def del_map(self, path: Path | str, key: str) -> None:
        self._expect(f"del map {self._map(path)} {self._word(key)}", None)

    @staticmethod
    def _map(path: Path | str) -> str:
        return HAProxyRuntime._word(str(path))

    @staticmethod
    def _word(text: str) -> str:
        """A map path, key or value: one word, nothing HAProxy's command parser would read as syntax."""
        if not text or any(c.isspace() or c in ";#\\'\"" for c in text):
            raise HAProxyRuntimeError(f"{text!r} cannot be sent as one runtime API word")
        return text

    def stat(self) -> list[dict[str, str]]:
        """Rows of `show stat` (CSV): pxname, svname, status, weight, scur, stot, check_status, hrsp_5xx, ..."""
        answer = self.command("show stat")
        if not answer.startswith("# "):
            raise HAProxyRuntimeError(f"unexpected answer to 'show stat': {answer.strip()[:300]}")
        return [dict(row) for row in csv.DictReader(io.StringIO(answer[2:])) if row.get("pxname")]
