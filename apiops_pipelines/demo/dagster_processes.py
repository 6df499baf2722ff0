"""Start and stop a real Dagster webserver and daemon on 127.0.0.1 for one instance folder."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

PACKAGE_ROOT = Path(__file__).resolve().parents[2]

INSTANCE_YAML = """\
# Embedded default: SQLite storage in this folder. Runs of one API wait for each other;
# runs of different APIs proceed in parallel.
run_coordinator:
  module: dagster._core.run_coordinator
  class: QueuedRunCoordinator
  config:
    max_concurrent_runs: 4
    tag_concurrency_limits:
      - key: apiops/api
        value: {applyLimitPerUniqueValue: true}
        limit: 1
telemetry:
  enabled: false
# The first-visit "Join the Dagster community" dialog would cover every page of a fresh demo.
nux:
  enabled: false
"""


def write_instance(dagster_home: Path) -> Path:
    """dagster.yaml and workspace.yaml for a local instance; the workspace path is returned."""
    dagster_home.mkdir(parents=True, exist_ok=True)
    (dagster_home / "dagster.yaml").write_text(INSTANCE_YAML)
    workspace = dagster_home / "workspace.yaml"
    workspace.write_text(
        "load_from:\n  - python_module:\n      module_name: apiops_pipelines.definitions\n"
        f"      working_directory: {PACKAGE_ROOT}\n      executable_path: {sys.executable}\n"
    )
    return workspace


def initialize_storage(dagster_home: Path) -> None:
    """Create the SQLite databases once, here: a webserver and a daemon starting together on a new folder
    both create them and race on the schema version (alembic then refuses to start either)."""
    from dagster import DagsterInstance

    with DagsterInstance.from_config(str(dagster_home)) as instance:
        instance.get_runs(limit=1)


def _bin(name: str) -> str:
    local = Path(sys.executable).parent / name
    return str(local) if local.exists() else name


class DagsterProcesses:
    """A webserver and a daemon, each in its own session so that stopping them stops their children."""

    def __init__(self, dagster_home: Path, port: int, env: dict[str, str], log_folder: Path) -> None:
        self.dagster_home, self.port, self.log_folder = dagster_home, port, log_folder
        self.env = {**os.environ, **env, "DAGSTER_HOME": str(dagster_home)}
        self.processes: list[subprocess.Popen] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.processes = []
        workspace = write_instance(self.dagster_home)
        initialize_storage(self.dagster_home)
        self.log_folder.mkdir(parents=True, exist_ok=True)
        commands = {
            "webserver": [_bin("dagster-webserver"), "-h", "127.0.0.1", "-p", str(self.port), "-w", str(workspace)],
            "daemon": [_bin("dagster-daemon"), "run", "-w", str(workspace)],
        }
        for name, command in commands.items():
            log = open(self.log_folder / f"{name}.log", "ab")  # noqa: SIM115 - lives as long as the process
            self.processes.append(
                subprocess.Popen(command, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                 stdin=subprocess.DEVNULL, start_new_session=True)  # fmt: skip
            )

    def wait_ready(self, timeout_s: float = 120) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            for process in self.processes:
                if process.poll() is not None:
                    raise RuntimeError(f"a Dagster process exited with {process.returncode}; see {self.log_folder}")
            try:
                if httpx.get(f"{self.url}/server_info", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise RuntimeError(f"the Dagster webserver did not answer on {self.url} within {timeout_s:.0f}s")

    def stop(self, timeout_s: float = 20) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout_s
        for process in self.processes:
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
