"""`apiops platform up|down|status` as an operator types it, against real supervisord, HAProxy and a service.

Every test takes its platform down at the end, by PID if `down` itself failed.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from gitrepo import TempRepo
from platform_support import (
    SECRET,
    commit_version,
    needs_haproxy,
    process_tree,
    service,
    short_folder,  # noqa: F401 - a fixture
    take_down,
)
from service_support import free_port

from apiops_pipelines.platform import Platform
from apiops_pipelines.platform.supervisor import pid_alive

pytestmark = needs_haproxy


def apiops(*args: str, home: Path, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "apiops_pipelines.cli", "platform", *args], capture_output=True, text=True,
        timeout=120, env={"APIOPS_HOME": str(home), "PATH": "/usr/bin:/bin", "APIOPS_TEST_TOKEN": SECRET, **env},
    )  # fmt: skip


@pytest.fixture
def home(short_folder: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """$APIOPS_HOME for the CLI, and the platform under it taken down afterwards whatever happened."""
    monkeypatch.setenv("APIOPS_TEST_TOKEN", SECRET)
    try:
        yield short_folder
    finally:
        take_down(Platform(short_folder / "platform"))


def row(table: str, start: str) -> list[str]:
    """The cells of the first table row starting with `start` (columns are two or more spaces apart)."""
    return next(re.split(r"\s{2,}", line.strip()) for line in table.splitlines() if line.strip().startswith(start))


def one_line_error(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr and result.stderr.count("\n") == 1, result.stderr
    return result.stderr


@pytest.mark.slow
def test_up_status_and_down_show_and_stop_haproxy_routes_and_programs(home: Path, repo: TempRepo) -> None:
    frontend, stats = f"127.0.0.1:{free_port()}", f"127.0.0.1:{free_port()}"
    up = apiops("up", "--frontend", frontend, "--stats", stats, home=home)
    assert up.returncode == 0, up.stderr
    assert f"frontend    http://{frontend}/<api>/" in up.stdout and f"metrics: http://{stats}/metrics" in up.stdout

    plat = Platform(home / "platform")  # what the pipeline does between two CLI calls
    commit = commit_version(repo, "v1")
    instance = plat.start_service("shop", repo.path, commit, "shop", service())
    plat.set_route("shop", {"stable": (instance, 100)})

    status = apiops("status", home=home)
    assert status.returncode == 0, status.stderr
    route = row(status.stdout, "shop ")
    proxy = plat.status()["apis"]["shop"]["backends"]["shop"]["proxy"]
    # no role and no version: routed directly, not by a release (the delivery stages fill them)
    assert route[:8] + route[9:] == ["shop", "/shop/", proxy, "stable", "-", instance.address, "100", "ready",
                                     commit[:12], "-"]  # fmt: skip
    assert route[8].startswith("UP")  # "UP 1/3" until HAProxy's own checks have risen
    program = row(status.stdout, "svc-shop-")
    report = json.loads(apiops("status", "--json", home=home).stdout)
    pid = report["programs"][instance.program]["pid"]
    assert program[:2] + program[3:] == [instance.program, "service", str(pid), instance.address, "shop", commit[:12]]
    assert program[2] in ("STARTING", "RUNNING")  # healthy already; supervisord says RUNNING after startsecs
    pids = [report["supervisord"]["pid"], *process_tree(report["haproxy"]["pid"]), pid]
    assert len(pids) >= 4 and all(map(pid_alive, pids))

    down = apiops("down", home=home)
    assert down.returncode == 0 and "stopped the platform" in down.stdout, down.stderr
    assert [p for p in pids if pid_alive(p)] == []
    error = one_line_error(apiops("status", home=home))
    assert error == f"apiops: no platform is running under {home / 'platform'}; start it: apiops platform up\n"
    assert apiops("down", home=home).stdout.startswith("no platform is running")

    again = apiops("up", home=home)  # the recorded addresses, services and routes come back
    assert again.returncode == 0, again.stderr
    assert f"http://{frontend}/<api>/" in again.stdout and row(again.stdout, instance.program)[1:3] in (
        ["service", "STARTING"], ["service", "RUNNING"],
    )  # fmt: skip


def test_up_refuses_a_taken_port_bad_addresses_and_a_missing_haproxy_before_starting_anything(home: Path) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        taken = f"127.0.0.1:{squatter.getsockname()[1]}"
        error = one_line_error(apiops("up", "--frontend", taken, "--stats", f"127.0.0.1:{free_port()}", home=home))
        assert f"the frontend address {taken} is in use by another process" in error
        assert "--frontend 127.0.0.1:PORT" in error
    assert Platform(home / "platform").supervisor.pid() is None  # nothing was started
    assert "not a loopback address" in one_line_error(apiops("up", "--stats", "10.1.2.3:8404", home=home))
    assert "'8080' is not an address" in one_line_error(apiops("up", "--frontend", "8080", home=home))
    missing = one_line_error(apiops("up", home=home, APIOPS_HAPROXY="/nonexistent/haproxy"))
    assert "APIOPS_HAPROXY=/nonexistent/haproxy is not an executable file" in missing
    assert Platform(home / "platform").supervisor.pid() is None
    assert not os.path.exists(home / "platform" / "supervisor.sock")
