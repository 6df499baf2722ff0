"""Story step 06 through the whole release job: a production-only misconfiguration passes every staging gate,
fails the canary on server errors, and is rolled back while production keeps serving the release before it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import httpx
import pytest
from delivery_support import checks, materialized
from estate_services import LENIENT_SLO, quick_runs
from platform_support import needs_haproxy, short_folder, take_down  # noqa: F401 (fixtures)
from service_support import free_port

from apiops_pipelines.definitions import defs
from apiops_pipelines.delivery.deployments import DeploymentRegistry
from apiops_pipelines.demo.estate import create_demo_repo, replay_step, story_steps
from apiops_pipelines.estate.git import run_git
from apiops_pipelines.platform import Platform
from apiops_pipelines.resources.artifacts import ArtifactStoreResource
from apiops_pipelines.resources.platform import PlatformResource
from apiops_pipelines.resources.repository import RepositoryResource

pytestmark = [pytest.mark.slow, needs_haproxy]
GATES = ("spec_is_valid", "governance_lint", "breaking_changes_versioned", "consumer_pacts_match_spec",
         "consumer_contracts_verified", "fuzz_checks_pass", "load_within_slo", "load_no_regression")  # fmt: skip


@pytest.fixture
def home(short_folder: Path) -> Iterator[Path]:
    yield short_folder
    take_down(Platform(short_folder / "platform"))


def shorten(repo: Path, api: str) -> None:
    """Short load tests, few fuzz examples, latency judged loosely (estate_services.quick_runs), unless
    already so: a story step that brings no apiops.yaml of its own keeps the edited one."""
    config = repo / api / "apiops.yaml"
    if LENIENT_SLO not in config.read_text():
        quick_runs(config)
    run_git(repo, "-c", "user.name=t", "-c", "user.email=t@e", "commit", "--allow-empty", "-qam", "tests: quick runs")


def release_twice(tmp_path: Path, home: Path, api: str, step_prefix: str):
    """The API's first release, then the story step's commit; both release runs, the frontend, the stable."""
    repo, _ = create_demo_repo(tmp_path / "estate")
    shorten(repo, api)
    frontend = f"127.0.0.1:{free_port()}"
    resources = {"repository": RepositoryResource(location=str(repo), branch="main", home=str(home)),
                 "artifacts": ArtifactStoreResource(home=str(home)),
                 "platform": PlatformResource(home=str(home), frontend=frontend, stats=f"127.0.0.1:{free_port()}")}
    definitions = dg.Definitions(assets=defs.assets, asset_checks=defs.asset_checks, jobs=defs.jobs,
                                 resources=resources)  # fmt: skip
    release = definitions.resolve_job_def("release")
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("apis", [api])

        def run() -> dg.ExecuteInProcessResult:
            head = run_git(repo, "rev-parse", "HEAD").decode().strip()
            return release.execute_in_process(instance=instance, partition_key=api,
                                              tags={"apiops/commit": head}, raise_on_error=False)  # fmt: skip

        first = run()
        assert first.success and "production_deployment" in materialized(first)
        stable = DeploymentRegistry(home / "deployments").load(api).stable
        (step,) = [s for s in story_steps() if s.slug.startswith(step_prefix)]
        replay_step(repo, step)
        shorten(repo, api)
        return run(), frontend, stable


def test_step_01_an_additive_change_is_promoted_through_a_canary(tmp_path, home):
    second, frontend, stable = release_twice(tmp_path, home, "bookstore", "01-")
    assert second.success, second.get_step_failure_events()
    canary = materialized(second)["canary_release"]
    assert canary["decision"] == "pass"
    assert "GET /books" in canary["touched_operations"]  # the new author filter: the canary had to show it used
    assert canary["traffic"].startswith("generated, 150 req/s")
    production = materialized(second)["production_deployment"]
    assert production["replaced"].startswith(f"1.0.0 @ {stable.commit[:12]}")
    assert production["spec_version"] == "1.1.0"
    assert httpx.get(f"http://{frontend}/bookstore/books?author=Mary%20Shelley", timeout=5).status_code == 200


def test_a_production_only_misconfiguration_passes_staging_fails_the_canary_and_is_rolled_back(tmp_path, home):
    second, frontend, stable = release_twice(tmp_path, home, "orders", "06-")
    found = checks(second)
    assert {name: found[name].passed for name in GATES} == dict.fromkeys(GATES, True)  # staging saw nothing wrong
    canary = found["canary_analysis"]
    assert not canary.passed
    assert canary.description.startswith("fail: ") and "server errors" in canary.description
    assert "rolled back" in canary.description
    assert "production_deployment" not in materialized(second)
    assert DeploymentRegistry(home / "deployments").load("orders").stable == stable
    answer = httpx.get(f"http://{frontend}/orders/orders", timeout=5)
    assert answer.status_code == 200 and answer.json()["items"][0]["currency"] == "EUR"
