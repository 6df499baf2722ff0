"""Generated traffic at a fixed rate, for as long as a canary is judged: Locust in a process group of its own.

Unlike the load stage, nothing here waits for Locust to finish: the canary starts the traffic, reads what
the gateway logs, and stops the traffic when its verdict is in (SIGTERM to the whole group, then SIGKILL).
Locust's own run time (`-t`) bounds it too, so traffic never outlives the canary even if the process that
started it dies. The target must be allowed (loopback unless APIOPS_ALLOW_TARGETS says otherwise).
"""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from apiops_pipelines.load.locust_target import locust_target
from apiops_pipelines.load.targets import check_target
from apiops_pipelines.load.traffic_locustfile import PACED_LOCUSTFILE
from apiops_pipelines.processes import identity_alive, process_identity

PER_USER_RATE = 20.0  # requests/s one simulated user sends at most; more rate means more users


@dataclass
class TrafficProcess:
    process: subprocess.Popen
    log: Path
    rps: float
    users: int
    identity: str | None = None  # `processes.process_identity` at start: stop_group acts on this process only

    @property
    def pid(self) -> int:
        return self.process.pid

    def running(self) -> bool:
        return self.process.poll() is None

    def stop(self, timeout: float = 10.0) -> None:
        stop_group(self.pid, timeout, identity=self.identity)
        try:
            self.process.wait(1.0)
        except subprocess.TimeoutExpired:
            pass

    def last_words(self, size: int = 2000) -> str:
        try:
            return self.log.read_text(encoding="utf-8", errors="replace")[-size:]
        except OSError:
            return ""


def start_traffic(
    base_url: str, rps: float, max_seconds: float, folder: Path, *, locustfile: Path | None = None,
    spec: dict[str, Any] | None = None, headers: Mapping[str, str] | None = None, allow_hosts: Iterable[str] = (),
    environ: Mapping[str, str] | None = None,
) -> TrafficProcess:  # fmt: skip
    """Send `rps` requests/s to `base_url` (a frontend URL with the API's prefix) for at most `max_seconds`."""
    check_target(base_url, allow_hosts)
    folder.mkdir(parents=True, exist_ok=True)
    target = locust_target(base_url, folder, locustfile=locustfile, spec=spec, wait=(0.0, 0.0))
    paced = folder / "paced_locustfile.py"
    paced.write_text(PACED_LOCUSTFILE, encoding="utf-8")
    users = max(1, math.ceil(rps / PER_USER_RATE))
    env = {**(os.environ if environ is None else environ), "APIOPS_TRAFFIC_LOCUSTFILE": str(target.script),
           "APIOPS_TRAFFIC_RATE": f"{rps / users:.6f}", "APIOPS_LOAD_HEADERS": json.dumps(dict(headers or {})),
           "PYTHONUNBUFFERED": "1"}  # fmt: skip
    command = [sys.executable, "-m", "locust", "-f", str(paced), "--headless", "--host", target.host, "-u", str(users),
               "-r", str(users), "-t", f"{max(1, math.ceil(max_seconds))}s", "--only-summary",
               "--exit-code-on-error", "0", "--stop-timeout", "1"]  # fmt: skip
    log = folder / "traffic.log"
    with open(log, "ab") as out:
        process = subprocess.Popen(command, cwd=folder, env=env, stdout=out, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, start_new_session=True)  # fmt: skip
    return TrafficProcess(process, log, rps, users, process_identity(process.pid))


def stop_group(pid: int, timeout: float = 10.0, identity: str | None = None) -> bool:
    """Stop the process group `pid` leads, if it is still a traffic process of ours; True if it was running.
    `identity` (`TrafficProcess.identity`) proves that pid is still the process started; without it, only
    its command line does. Once the group is signalled its id cannot be reused while any member lives."""
    if not (identity_alive(identity) if identity else _is_traffic(pid)):
        return False
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            return True
        if _wait_gone(pid, wait):
            return True
    return True


def _is_traffic(pid: int) -> bool:
    """A pid may have been reused since it was recorded: act only on a paced locust process."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return b"locust" in cmdline and b"paced_locustfile.py" in cmdline


def _wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.killpg(pid, 0)
        except ProcessLookupError:
            return True
        try:
            os.waitpid(pid, os.WNOHANG)  # reap it when it is our child
        except ChildProcessError:
            pass
        time.sleep(0.05)
    return False
