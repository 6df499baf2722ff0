"""mock_server and staging_deployment on a real platform (HAProxy + supervisord) and a real instance."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import httpx
import pytest
from platform_support import short_folder, take_down  # noqa: F401 (a fixture)
from service_support import free_port

from apiops_pipelines.assets.api_spec import api_spec
from apiops_pipelines.assets.breaking_changes import breaking_changes
from apiops_pipelines.assets.mock_server import mock_server
from apiops_pipelines.assets.spec_validation import spec_validation
from apiops_pipelines.assets.staging_deployment import staging_deployment
from apiops_pipelines.demo.estate import create_demo_repo
from apiops_pipelines.estate.git import run_git
from apiops_pipelines.platform import Platform
from apiops_pipelines.platform.haproxy_config import haproxy_binary
from apiops_pipelines.resources.artifacts import ArtifactStoreResource
from apiops_pipelines.resources.platform import PlatformResource
from apiops_pipelines.resources.repository import RepositoryResource
from apiops_pipelines.sensors.staging_teardown import staging_teardown

pytestmark = [pytest.mark.slow, pytest.mark.skipif(haproxy_binary() is None, reason="apt-get install haproxy")]
STAGES = [api_spec, spec_validation, breaking_changes, mock_server, staging_deployment]



@pytest.fixture
def short_home(short_folder: Path) -> Iterator[Path]:
    """supervisord's Unix socket path must stay short, so not under pytest's long tmp_path."""
    yield short_folder
    take_down(Platform(short_folder / "platform"))


@pytest.fixture
def instance():
    with dg.instance_for_test() as instance:
        yield instance


def setup(tmp_path: Path, home: Path) -> tuple[Path, dict]:
    estate, _ = create_demo_repo(tmp_path / "estate")
    resources = {
        "repository": RepositoryResource(location=str(estate), branch="main", home=str(home)),
        "artifacts": ArtifactStoreResource(home=str(home)),
        "platform": PlatformResource(home=str(home), frontend=f"127.0.0.1:{free_port()}",
                                     stats=f"127.0.0.1:{free_port()}"),
    }  # fmt: skip
    return estate, resources


def release(instance, estate: Path, resources: dict, api: str) -> dg.ExecuteInProcessResult:
    instance.add_dynamic_partitions("apis", [api])
    commit = run_git(estate, "rev-parse", "HEAD").decode().strip()
    return dg.materialize(STAGES, partition_key=api, instance=instance, resources=resources,
                          tags={"apiops/commit": commit}, raise_on_error=False)  # fmt: skip


def metadata(result: dg.ExecuteInProcessResult, asset: str) -> dict:
    event = next(e for e in result.get_asset_materialization_events() if e.asset_key == dg.AssetKey(asset))
    return {k: v.value for k, v in event.materialization.metadata.items()}


def test_release_serves_the_mock_and_a_private_staging_instance_torn_down_after_the_run(
    tmp_path: Path, short_home: Path, instance
) -> None:
    estate, resources = setup(tmp_path, short_home)
    result = release(instance, estate, resources, "orders")
    assert result.success
    mock = metadata(result, "mock_server")
    listing = httpx.get(mock["url"] + "orders", params={"status": "pending"}, timeout=10)
    assert listing.status_code == 200 and "items" in listing.json()
    bad = httpx.post(mock["url"] + "orders", json={"items": "not a list"}, timeout=10)
    assert bad.status_code in (400, 422) and bad.headers["content-type"].startswith("application/problem+json")

    staging = metadata(result, "staging_deployment")
    assert staging["commit"] == run_git(estate, "rev-parse", "HEAD").decode().strip()
    assert httpx.get(staging["url"] + "/health", timeout=10).status_code == 200
    frontend = resources["platform"].frontend
    assert httpx.get(f"http://{frontend}/orders/health", timeout=10).status_code == 404  # not in production

    context = dg.build_sensor_context(instance=instance, resources={"platform": resources["platform"]})
    outcome = staging_teardown(context)
    assert "stopped 1 staging instance" in str(outcome.skip_message)
    with pytest.raises(httpx.ConnectError):
        httpx.get(staging["url"] + "/health", timeout=5)
    assert staging["program"] not in Platform(short_home / "platform").status()["programs"]


def test_a_service_that_crashes_at_start_fails_the_stage_with_its_last_log_lines(
    tmp_path: Path, short_home: Path, instance
) -> None:
    estate, resources = setup(tmp_path, short_home)
    app = estate / "orders" / "service" / "app.py"
    app.write_text("import sys\nprint('cannot connect to the order database', file=sys.stderr)\nsys.exit(3)\n")
    run_git(estate, "-c", "user.name=t", "-c", "user.email=t@e", "commit", "-qam", "orders: crash at start")
    result = release(instance, estate, resources, "orders")
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    assert failure.step_key == "staging_deployment"
    text = str(failure.step_failure_data.user_failure_data.description)
    assert "cannot connect to the order database" in text
    programs = Platform(short_home / "platform").status()["programs"]
    assert not [name for name in programs if name.startswith("svc-orders")]  # nothing left running
