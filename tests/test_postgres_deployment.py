"""The team deployment of deploy/: a real PostgreSQL server, the code location as its own gRPC server, and a
webserver and a daemon that reach it through deploy/workspace-grpc.yaml; a commit becomes a release run whose
every record lands in PostgreSQL."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest
import yaml
from dagster._core.remote_origin import GrpcServerCodeLocationOrigin
from dagster._core.scheduler.instigation import TickData, TickStatus
from dagster._serdes import deserialize_value
from gitrepo import TempRepo, api
from platform_support import needs_haproxy, short_folder, take_down  # noqa: F401 (a fixture)
from postgres_support import PostgresServer, needs_postgres, running_postgres
from service_support import free_port
from test_end_to_end import finished_run, wait_for

from apiops_pipelines.dagster_graphql import DagsterGraphQL
from apiops_pipelines.demo.dagster_processes import DagsterProcesses, initialize_storage
from apiops_pipelines.platform import Platform

pytestmark = [pytest.mark.e2e, pytest.mark.slow, needs_postgres, needs_haproxy]

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"
BIN = Path(sys.executable).parent  # the venv's dagster, dagster-webserver and dagster-daemon


@pytest.fixture
def postgres() -> Iterator[PostgresServer]:
    with running_postgres(free_port()) as server:
        yield server


class GrpcDeployment(DagsterProcesses):
    """deploy/ as a team runs it: `dagster api grpc` serving the code location, and a webserver and a daemon
    whose workspace is deploy/workspace-grpc.yaml (on a free port), all sharing deploy/dagster.yaml.
    Stopping (inherited) kills each one's process group: the run workers are the gRPC server's children."""

    def __init__(self, dagster_home: Path, port: int, env: dict[str, str], log_folder: Path) -> None:
        super().__init__(dagster_home, port, env, log_folder)
        self.grpc_port = free_port()

    def start(self) -> None:
        self.processes = []
        self.dagster_home.mkdir(parents=True, exist_ok=True)
        self.log_folder.mkdir(parents=True, exist_ok=True)
        (self.dagster_home / "dagster.yaml").write_text((DEPLOY / "dagster.yaml").read_text())
        workspace_yaml = yaml.safe_load((DEPLOY / "workspace-grpc.yaml").read_text())
        workspace_yaml["load_from"][0]["grpc_server"]["port"] = self.grpc_port
        workspace = self.dagster_home / "workspace.yaml"
        workspace.write_text(yaml.safe_dump(workspace_yaml))
        initialize_storage(self.dagster_home)  # the schema once, rather than three processes racing to create it
        serve = ["api", "grpc", "-m", "apiops_pipelines.definitions", "-h", "127.0.0.1", "-p", str(self.grpc_port)]
        self._spawn("grpc", [str(BIN / "dagster"), *serve, "--use-python-environment-entry-point"])
        # The order of a real start: a webserver or daemon that finds no server shows the location as failed.
        self._wait_for_grpc(120)
        self._spawn("webserver", [str(BIN / "dagster-webserver"), "-h", "127.0.0.1", "-p", str(self.port),
                                  "-w", str(workspace)])  # fmt: skip
        self._spawn("daemon", [str(BIN / "dagster-daemon"), "run", "-w", str(workspace)])

    def _wait_for_grpc(self, timeout_s: float) -> None:
        check = [str(BIN / "dagster"), "api", "grpc-health-check", "-h", "127.0.0.1", "-p", str(self.grpc_port)]
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.processes[0].poll() is not None:
                break
            if subprocess.run(check, env=self.env, capture_output=True, timeout=60).returncode == 0:
                return
            time.sleep(1)
        log = (self.log_folder / "grpc.log").read_text()[-3000:]
        raise RuntimeError(f"the code location's gRPC server did not serve on port {self.grpc_port}:\n{log}")

    def _spawn(self, name: str, command: list[str]) -> None:
        log = open(self.log_folder / f"{name}.log", "ab")  # noqa: SIM115 - lives as long as the process
        self.processes.append(
            subprocess.Popen(command, env=self.env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                             start_new_session=True)  # fmt: skip
        )


def stored_materializations(postgres: PostgresServer, run_id: str) -> dict[str, str]:
    rows = postgres.query("SELECT asset_key, partition FROM event_logs WHERE run_id = %s"
                          " AND dagster_event_type = 'ASSET_MATERIALIZATION'", (run_id,))  # fmt: skip
    return {json.loads(key)[0]: partition for key, partition in rows}


def test_a_commit_is_released_through_grpc_webserver_and_daemon_on_postgresql(
    tmp_path: Path, short_folder: Path, postgres: PostgresServer, monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
    """deploy/dagster.yaml failed every process on a fresh install: SQLAlchemy 2.1 reads a bare postgresql:// URL
    as psycopg 3, which nothing installs ("No module named 'psycopg'"); its postgres_db block now names psycopg2."""
    repo = TempRepo(tmp_path / "estate")
    commit = repo.commit("bookstore", api("bookstore"))  # no service: lint, diff and mock only, a short run
    home = short_folder  # short: the platform's supervisord socket lives under it
    for name, value in postgres.dagster_env().items():
        monkeypatch.setenv(name, value)  # for initialize_storage, in this process
    env = {"APIOPS_REPO": str(repo.path), "APIOPS_HOME": str(home), "APIOPS_SENSOR_INTERVAL": "2",
           "APIOPS_FRONTEND": f"127.0.0.1:{free_port()}", "APIOPS_STATS": f"127.0.0.1:{free_port()}",
           **postgres.dagster_env()}  # fmt: skip
    logs = tmp_path / "logs"
    deployment = GrpcDeployment(tmp_path / "dagster", free_port(), env, logs)
    try:
        deployment.start()
        deployment.wait_ready(180)
        client = DagsterGraphQL(deployment.url)
        run = wait_for("the sensor's release run", lambda: finished_run(client, {"apiops/api": "bookstore"}), 300, logs)
        assert run["status"] == "SUCCESS", run
    finally:
        deployment.stop()
        take_down(Platform(home / "platform"))  # the mock stage started HAProxy and supervisord
    assert deployment.processes and all(p.poll() is not None for p in deployment.processes)

    # Read back from PostgreSQL itself, with every Dagster process stopped: nothing else could be answering.
    run_id = run["runId"]
    [(job, status, body)] = postgres.query("SELECT pipeline_name, status, run_body FROM runs WHERE run_id = %s",
                                           (run_id,))  # fmt: skip
    assert (job, status) == ("release", "SUCCESS")
    location = deserialize_value(body, dg.DagsterRun).remote_job_origin.repository_origin.code_location_origin
    assert isinstance(location, GrpcServerCodeLocationOrigin) and location.port == deployment.grpc_port
    tags = dict(postgres.query("SELECT key, value FROM run_tags WHERE run_id = %s", (run_id,)))
    assert tags["apiops/commit"] == commit and tags["apiops/branch"] == "main"

    stored = stored_materializations(postgres, run_id)
    assert {"api_spec", "spec_validation", "breaking_changes", "mock_server"} <= stored.keys(), stored
    assert set(stored.values()) == {"bookstore"}
    assert "staging_deployment" not in stored  # no service: nothing deployed
    checks = dict(postgres.query("SELECT check_name, execution_status FROM asset_check_executions"
                                 " WHERE run_id = %s", (run_id,)))  # fmt: skip
    assert checks.get("spec_is_valid") == "SUCCEEDED", checks
    assert ("apis", "bookstore") in postgres.query("SELECT partitions_def_name, partition FROM dynamic_partitions")

    ticks = [deserialize_value(body, TickData) for (body,) in postgres.query("SELECT tick_body FROM job_ticks")]
    assert [(t.instigator_name, t.status) for t in ticks if run_id in t.run_ids] == [
        ("git_commit_sensor", TickStatus.SUCCESS)], ticks  # fmt: skip
    daemons = {kind for (kind,) in postgres.query("SELECT daemon_type FROM daemon_heartbeats")}
    assert {"SENSOR", "QUEUED_RUN_COORDINATOR"} <= daemons
    assert not list((tmp_path / "dagster").rglob("*.db"))  # no SQLite on the side
