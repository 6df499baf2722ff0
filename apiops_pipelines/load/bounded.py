"""Run a verification tool (locust, schemathesis, the pact verifier) as a child process in its own session,
bounded in time.

Locust forks workers of its own; the session makes the whole group one unit, so a timeout ends every
process of it and nothing outlives the stage.
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Mapping
from pathlib import Path


class RunTimeout(Exception):
    def __init__(self, timeout: float, output: bytes) -> None:
        super().__init__(f"did not finish within {timeout:.0f}s")
        self.timeout, self.output = timeout, output


def run_bounded(command: list[str], cwd: Path, env: Mapping[str, str], timeout: float) -> tuple[int, bytes]:
    """The exit code and the combined stdout and stderr; `RunTimeout` once the group has been stopped."""
    process = subprocess.Popen(command, cwd=cwd, env=dict(env), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               start_new_session=True)  # fmt: skip
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _stop_group(process)
        output, _ = process.communicate()
        raise RunTimeout(timeout, output) from None
    return process.returncode, output


def _stop_group(process: subprocess.Popen) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(5.0)
            return
        except subprocess.TimeoutExpired:
            continue
