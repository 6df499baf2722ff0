"""What keeps production right when things go wrong around a release: a run killed mid-canary is rolled back
by the watchdog sensor within one tick; the rollback job (and `apiops rollback`) puts an earlier release back;
a platform restart restores who serves production. Real HAProxy, supervisord, service and Dagster instance."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest
from delivery_support import Client, Shop
from notify_support import WebhookServer
from platform_support import needs_haproxy, process_tree, short_folder, take_down  # noqa: F401

from apiops_pipelines.definitions import defs
from apiops_pipelines.delivery.release_ledger import PRODUCTION
from apiops_pipelines.platform import Platform
from apiops_pipelines.processes import pid_alive
from apiops_pipelines.resources.notifier import NotifierResource
from apiops_pipelines.sensors.canary_watchdog import canary_watchdog

pytestmark = [pytest.mark.slow, needs_haproxy]
TESTS = Path(__file__).resolve().parent

RELEASE_IN_A_CHILD = """
import sys
sys.path.insert(0, sys.argv[1])
import dagster as dg
from apiops_pipelines.definitions import defs
from apiops_pipelines.resources.artifacts import ArtifactStoreResource
from apiops_pipelines.resources.platform import PlatformResource
from apiops_pipelines.resources.repository import RepositoryResource
dagster_home, repo, home, frontend, stats, commit = sys.argv[2:8]
resources = {"repository": RepositoryResource(location=repo, branch="main", home=home),
             "artifacts": ArtifactStoreResource(home=home),
             "platform": PlatformResource(home=home, frontend=frontend, stats=stats)}
with dg.DagsterInstance.from_config(dagster_home) as instance:
    dg.materialize(defs.assets, selection=["api_spec", "canary_release", "production_deployment"],
                   partition_key="shop", instance=instance, resources=resources,
                   tags={"apiops/commit": commit, "apiops/api": "shop"})
"""


@pytest.fixture
def dagster_home(tmp_path: Path) -> Path:
    folder = tmp_path / "dagster"
    folder.mkdir()
    (folder / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    return folder


@pytest.fixture
def shop(tmp_path: Path, short_folder: Path, dagster_home: Path) -> Iterator[Shop]:
    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        shop = Shop(tmp_path, short_folder, instance)
        try:
            yield shop
        finally:
            take_down(Platform(short_folder / "platform"))


def wait_for(condition, timeout: float = 60.0, what: str = "the condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"{what} did not happen within {timeout:.0f}s")


def test_a_run_killed_mid_canary_is_rolled_back_by_the_watchdog_within_one_tick(shop, dagster_home):
    first = shop.commit("1.0.0")
    assert shop.release(first).success
    stable = shop.registry.load("shop").stable
    commit = shop.commit("1.0.1", max_wait="60s")
    stats = shop.resources["platform"].stats
    child = subprocess.Popen([sys.executable, "-c", RELEASE_IN_A_CHILD, str(TESTS), str(dagster_home),
                              str(shop.repo.path), str(shop.home), shop.frontend, stats, commit],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)  # fmt: skip
    try:
        wait_for(lambda: (shop.registry.load("shop").traffic_pid or 0) > 0, what="the canary's traffic")
        deployment = shop.registry.load("shop")
        wait_for(lambda: any(s.weight == 10 for s in shop.platform.store.load().backend_of("shop").servers),
                 what="the first step")  # fmt: skip
    finally:
        os.killpg(child.pid, signal.SIGKILL)  # the run's process dies; its traffic (a session of its own) lives on
        child.wait(10)
    assert pid_alive(deployment.traffic_pid)
    run = shop.instance.get_run_by_id(deployment.canary.run_id)
    assert run is not None and not run.is_finished  # nobody told Dagster: the run still reads STARTED
    with WebhookServer() as webhook:
        resources = {"platform": shop.resources["platform"], "notifier": NotifierResource(urls=webhook.url)}
        with dg.build_sensor_context(instance=shop.instance, resources=resources) as context:
            skip = canary_watchdog(context)
            assert "rolled back 1" in skip.skip_message
            after = shop.registry.load("shop")
            assert after.canary is None and after.stable == stable
            assert not pid_alive(deployment.traffic_pid)
            state = shop.platform.store.load()
            assert [s.name for s in state.backend_of("shop").servers] == [stable.server]
            assert state.backend_of("shop").servers[0].weight == 100
            assert deployment.canary.program not in state.programs
            assert {shop.version() for _ in range(10)} == {"1.0.0"}
            assert canary_watchdog(context).skip_message.endswith("rolled back 0")  # nothing orphaned, nothing twice
    (notice,) = [r.json() for r in webhook.received]  # the sensor's own notifier resource posted it, once
    assert (notice["event"], notice["commit"]) == ("canary_rolled_back", commit) and "canary_watchdog" in notice["text"]
    assert shop.ledger.latest("shop", PRODUCTION).commit == first


def rollback(shop: Shop, **config: str) -> dg.ExecuteInProcessResult:
    definitions = dg.Definitions(jobs=defs.jobs, assets=defs.assets, asset_checks=defs.asset_checks,
                                 resources=shop.resources)  # fmt: skip
    job = definitions.resolve_job_def("rollback")
    return job.execute_in_process(run_config={"ops": {"roll_back_production": {"config": {"api": "shop", **config}}}},
                                  instance=shop.instance, raise_on_error=False)  # fmt: skip


def test_the_rollback_job_restores_the_previous_release_with_a_drained_switch(shop):
    first = shop.commit("1.0.0")
    assert shop.release(first).success
    second = shop.commit("1.0.1")
    assert shop.release(second).success
    client = Client(shop.url)
    client.start()
    result = rollback(shop, reason="a customer reports wrong prices")
    outcomes = client.stop()
    assert result.success
    assert set(outcomes) == {"200"}  # the switch back dropped no request
    (event,) = [e for e in result.all_events if e.event_type_value == "ASSET_MATERIALIZATION"]
    materialization = event.event_specific_data.materialization
    assert materialization.asset_key == dg.AssetKey("production_deployment") and materialization.partition == "shop"
    meta = {k: v.value for k, v in materialization.metadata.items()}
    assert (meta["kind"], meta["commit"], meta["reason"]) == ("rollback", first, "a customer reports wrong prices")
    assert meta["replaced"].startswith("1.0.1 @ " + second[:12]) and meta["requested_by"] == "the Dagster UI"
    assert shop.version() == "1.0.0"
    latest = shop.ledger.latest("shop", PRODUCTION)
    assert (latest.commit, latest.kind, latest.reason) == (first, "rollback", "a customer reports wrong prices")
    assert [s.commit for s in shop.platform.store.load().backend_of("shop").servers] == [first]
    # back again, by version, from the command line against the same instance
    env = {**os.environ, "DAGSTER_HOME": str(shop.instance.root_directory), "APIOPS_REPO": str(shop.repo.path),
           "APIOPS_HOME": str(shop.home), "APIOPS_FRONTEND": shop.frontend}  # fmt: skip
    done = subprocess.run([str(Path(sys.executable).parent / "apiops"), "rollback", "shop", "--to", "1.0.1",
                           "--reason", "fixed upstream"], env=env, capture_output=True, text=True, timeout=180)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"shop: rollback to 1.0.1 @ {second[:12]}: fixed upstream" in done.stdout
    assert shop.version() == "1.0.1"
    unknown = rollback(shop, to="9.9.9")
    assert not unknown.success
    message = unknown.get_step_failure_events()[0].event_specific_data.error.message
    assert "never had a production release matching '9.9.9'; known: 1.0.1" in message and "1.0.0" in message


def test_a_platform_restart_restores_who_serves_production(shop):
    assert shop.release(shop.commit("1.0.0")).success
    assert shop.release(shop.commit("1.0.1")).success
    before = shop.registry.load("shop").stable
    kill_platform_processes(shop.platform)  # supervisord, HAProxy and the service instances, kill -9
    shop.platform.up()
    wait_for(lambda: _serves(shop) == "1.0.1", what="production serving again")
    backend = shop.platform.store.load().backend_of("shop")
    assert [(s.name, s.weight, s.commit) for s in backend.servers] == [(before.server, 100, before.commit)]
    assert shop.registry.load("shop").stable == before


def kill_platform_processes(platform: Platform) -> None:
    """kill -9 of supervisord, HAProxy's processes and every service instance: a machine that lost them all."""
    status = platform.status()
    pids = [status["supervisord"]["pid"], *process_tree(status["haproxy"]["pid"])]
    pids += [program["pid"] for program in status["programs"].values() if program["pid"]]
    for pid in pids:
        os.kill(pid, signal.SIGKILL)
    wait_for(lambda: not any(pid_alive(p) for p in pids), 10, "the processes ending")


def _serves(shop: Shop) -> str | None:
    try:
        return shop.version()
    except Exception:  # noqa: BLE001 - not up yet
        return None
