"""The whole: a real dagster-webserver and dagster-daemon on 127.0.0.1, a commit, a sensor-started run."""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

import httpx
import pytest
from gitrepo import TempRepo, api
from service_support import free_port

from apiops_pipelines.dagster_graphql import DagsterGraphQL
from apiops_pipelines.demo.dagster_processes import DagsterProcesses
from apiops_pipelines.platform import Platform

pytestmark = [pytest.mark.e2e, pytest.mark.slow]



def wait_for(what: str, probe, timeout_s: float, logs: Path):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(1)
    tails = "\n".join(f"--- {p.name}\n{p.read_text()[-3000:]}" for p in logs.glob("*.log"))
    pytest.fail(f"timed out waiting for {what}\n{tails}")


def finished_run(client: DagsterGraphQL, tags: dict[str, str]):
    runs = client.runs(tags)
    return runs[0] if runs and runs[0]["status"] in ("SUCCESS", "FAILURE", "CANCELED") else None


def test_commit_triggers_a_sensor_run_through_the_spec_gates(tmp_path: Path) -> None:
    repo = TempRepo(tmp_path / "estate")
    first = repo.commit("bookstore", api("bookstore"))
    home = tmp_path / "home"
    home = Path(tempfile.mkdtemp(prefix="apx-"))  # short: the platform's supervisord socket lives under it
    env = {"APIOPS_REPO": str(repo.path), "APIOPS_HOME": str(home), "APIOPS_SENSOR_INTERVAL": "2",
           "APIOPS_FRONTEND": f"127.0.0.1:{free_port()}", "APIOPS_STATS": f"127.0.0.1:{free_port()}"}  # fmt: skip
    dagster = DagsterProcesses(home / "dagster", free_port(), env, tmp_path / "logs")
    dagster.start()
    try:
        dagster.wait_ready(180)
        client = DagsterGraphQL(dagster.url)
        run = wait_for("the first run", lambda: finished_run(client, {"apiops/api": "bookstore"}), 300, tmp_path / "logs")
        assert run["status"] == "SUCCESS", run
        assert run["tags"]["apiops/commit"] == first

        second = repo.commit("bookstore 1.1.0", api("bookstore", "1.1.0"))
        run = wait_for("the run of the new commit",
                       lambda: finished_run(client, {"apiops/commit": second}), 300, tmp_path / "logs")  # fmt: skip
        assert run["status"] == "SUCCESS", run
        assert run["tags"]["apiops/branch"] == "main"
        mats = client.materializations("api_spec", "bookstore")
        newest = next(m for m in mats if m["runId"] == run["runId"])
        assert newest["metadata"]["commit"] == second
        assert newest["metadata"]["spec_version"] == "1.1.0"
        assert Path(newest["metadata"]["bundled_spec"]).is_file()
        gate = next(m for m in client.materializations("breaking_changes", "bookstore") if m["runId"] == run["runId"])
        assert gate["metadata"]["commit"] == second
        assert gate["metadata"]["baseline_commit"] == first  # the first run's spec passed the gates
        mock = next(m for m in client.materializations("mock_server", "bookstore") if m["runId"] == run["runId"])
        assert httpx.get(mock["metadata"]["url"] + "things", timeout=10).status_code == 200
        assert not client.materializations("staging_deployment", "bookstore")  # no service: nothing deployed
    finally:
        dagster.stop()
        Platform(home / "platform").down()
        shutil.rmtree(home, ignore_errors=True)
    assert dagster.processes and all(p.poll() is not None for p in dagster.processes)


def test_demo_stopped_by_sigterm_stops_its_dagster_processes(tmp_path: Path) -> None:
    """`kill PID` on a background `apiops demo` used to leave the webserver and daemon running."""
    import os
    import signal
    import subprocess
    import sys

    home = tmp_path / "home"
    port = free_port()
    demo = subprocess.Popen(
        [sys.executable, "-m", "apiops_pipelines.cli", "demo", "--port", str(port)],
        env={**os.environ, "APIOPS_HOME": str(home), "APIOPS_FRONTEND": f"127.0.0.1:{free_port()}",
             "APIOPS_STATS": f"127.0.0.1:{free_port()}"},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True, start_new_session=True,
    )  # fmt: skip
    try:
        lines = []
        for line in demo.stdout:
            lines.append(line)
            if "Press Ctrl-C" in line:
                break
        else:
            pytest.fail("the demo did not come up:\n" + "".join(lines))
        children = [int(p) for p in subprocess.run(["pgrep", "-P", str(demo.pid)], capture_output=True,
                                                    text=True).stdout.split()]  # fmt: skip
        assert len(children) == 2, children  # webserver and daemon
        demo.send_signal(signal.SIGTERM)
        assert demo.wait(60) == 0
        assert "stopping Dagster" in demo.stdout.read()
        for pid in children:
            assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text()
    finally:
        if demo.poll() is None:
            os.killpg(demo.pid, signal.SIGKILL)
            demo.wait()


def test_a_new_instance_folder_is_initialized_before_the_processes_start(tmp_path: Path) -> None:
    """The webserver and the daemon used to race creating SQLite storage on a new folder (alembic CommandError)."""
    from apiops_pipelines.demo.dagster_processes import initialize_storage, write_instance

    home = tmp_path / "dagster"
    write_instance(home)
    initialize_storage(home)
    assert (home / "history" / "runs.db").is_file()
    assert (home / "schedules" / "schedules.db").is_file()
