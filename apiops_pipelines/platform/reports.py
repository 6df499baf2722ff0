"""The report server as a program of the platform, and the http URLs under which stored reports open.

Stages store reports under `<home>/artifacts/`, and a browser will not follow a file:// link from the
Dagster UI's http page. So supervisord runs report_server.py on a free loopback port, and HAProxy's stats
frontend (loopback only, and unauthenticated already: nothing new is exposed) forwards `/reports/...` to
it with the prefix stripped. The port is recorded in the platform state, because haproxy.cfg is generated
from the state: a port that moves (taken by another process after a reboot) changes the configuration,
and the gateway reloads HAProxy for it as for any structural change.
"""

from __future__ import annotations

import socket
import sys
import time
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import quote

from apiops_pipelines.platform.instances import free_port, port_is_free
from apiops_pipelines.platform.programs import ProgramSpec
from apiops_pipelines.platform.state import PlatformState, split_address
from apiops_pipelines.platform.supervisor import FAILED_STATES, Supervisor, SupervisorError

PROGRAM = "reports"  # services are svc-..., mocks mock-...: no clash
BACKEND = "be_reports"  # '_' cannot occur in an API's backend name
PREFIX = "/reports/"
SERVER_MODULE = "apiops_pipelines.platform.report_server"
READY_TIMEOUT = 15.0


def stats_frontend_rules(state: PlatformState) -> list[str]:
    """The stats frontend's lines that send `/reports/...` to the report server (none before it has a port)."""
    if state.reports_port is None:
        return []
    return [
        f"    http-request redirect location {PREFIX} code 302 if {{ path {PREFIX.rstrip('/')} }}",
        f"    use_backend {BACKEND} if {{ path_beg {PREFIX} }}",
    ]


def report_backend(state: PlatformState) -> list[str]:
    """The backend section of the report server, prefix stripped; its port always comes from the file (not
    from the server-state file of a reload, which would still hold the port it had before)."""
    if state.reports_port is None:
        return []
    return [
        f"backend {BACKEND}",
        "    load-server-state-from-file none",
        f"    http-request replace-path ^{PREFIX}(.*)$ /\\1",
        f"    http-request set-header X-Forwarded-Prefix {PREFIX.rstrip('/')}",
        f"    server report-server 127.0.0.1:{state.reports_port}",
        "",
    ]


def report_url(artifacts: Path, stats: str, path: Path | str) -> str | None:
    """`http://<stats>/reports/<path relative to artifacts>`, or None when `path` resolves (symlinks
    followed) outside `artifacts` or to a hidden name, which the report server would refuse."""
    root = artifacts.resolve()
    try:
        target = Path(path).resolve()
    except (OSError, RuntimeError):
        return None
    if not target.is_relative_to(root):
        return None
    parts = target.relative_to(root).parts
    if any(part.startswith(".") for part in parts):
        return None
    relative = "/".join(parts) + ("/" if parts and target.is_dir() else "")
    return f"http://{stats}{PREFIX}{quote(relative)}"


class ReportServerError(RuntimeError):
    """The report server did not start; the message quotes its log."""


class ReportServer:
    def __init__(self, home: Path, supervisor: Supervisor) -> None:
        self.home = home
        self.artifacts = home.parent / "artifacts"  # Platform(<home>/platform): reports are in <home>/artifacts
        self.supervisor = supervisor
        self.log = supervisor.logs_dir / f"{PROGRAM}.log"

    def program_spec(self, port: int) -> ProgramSpec:
        command = (sys.executable, "-m", SERVER_MODULE, str(self.artifacts), "--port", str(port))
        return ProgramSpec(
            name=PROGRAM, command=command, directory=str(self.home), stdout_logfile=str(self.log), startsecs=1,
            stopwaitsecs=5, priority=800,  # stops after HAProxy (900), which forwards to it
        )  # fmt: skip

    def program_state(self) -> str | None:
        """supervisord's state of the program (RUNNING, BACKOFF, ...), None when it does not know it."""
        try:
            info = self.supervisor.info(PROGRAM)
        except SupervisorError:
            return None
        return info["statename"] if info else None

    def is_running(self) -> bool:
        return self.program_state() in ("RUNNING", "STARTING")

    def restore(self, state: PlatformState) -> tuple[PlatformState, list[str]]:
        """Start the report server unless it runs, on its recorded port while that is free, else on a new one;
        the state with the port it listens on, and the problem when it did not start (the platform runs on)."""
        port = state.reports_port
        if port is None or (not self.is_running() and not port_is_free(port)):
            taken = [p.port for p in state.programs.values()]
            taken += [split_address(state.frontend)[1], split_address(state.stats)[1]]
            state = replace(state, reports_port=free_port(taken))
        port = state.reports_port
        try:
            self.artifacts.mkdir(parents=True, exist_ok=True)  # an empty index rather than 404 before the first run
            self.supervisor.add_program(self.program_spec(port))  # the same program: nothing restarts
            self.supervisor.start_program(PROGRAM)
            self._wait_ready(port)
        except (OSError, SupervisorError, ReportServerError) as exc:
            return state, [f"report server: {exc}"]
        return state, []

    def _wait_ready(self, port: int) -> None:
        deadline = time.monotonic() + READY_TIMEOUT
        while True:
            name = self.program_state()
            if name in FAILED_STATES or name in ("STOPPED", None):
                time.sleep(0.2)  # let supervisord write what it printed last
                said = self.supervisor.log_tail(PROGRAM, 2000).strip().splitlines()[-3:]
                raise ReportServerError(f"exited at start ({name}): {' | '.join(said) or 'no output'}; see {self.log}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1.0).close()
                return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise ReportServerError(
                    f"did not listen on 127.0.0.1:{port} within {READY_TIMEOUT:.0f}s; see {self.log}"
                )
            time.sleep(0.05)

    def status(self, state: PlatformState, programs: Mapping[str, dict[str, Any]]) -> dict[str, Any]:
        """Where reports open, and the program's state in `programs` (supervisord's info, by name)."""
        info = programs.get(PROGRAM, {})
        return {
            "url": f"http://{state.stats}{PREFIX}", "root": str(self.artifacts),
            "address": f"127.0.0.1:{state.reports_port}" if state.reports_port else None,
            "state": info.get("statename", "STOPPED"), "pid": info.get("pid") or None, "log": str(self.log),
        }  # fmt: skip
