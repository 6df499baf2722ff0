"""The Dagster layer on a real instance: the sensor's requests, api_spec's materialization, definitions."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pytest
from gitrepo import TempRepo, api

from apiops_pipelines.assets.api_spec import api_spec
from apiops_pipelines.assets.partitions import api_partitions
from apiops_pipelines.resources.artifacts import ArtifactStoreResource
from apiops_pipelines.resources.repository import RepositoryResource
from apiops_pipelines.sensors.git_commit_sensor import git_commit_sensor


@pytest.fixture
def instance():
    with dg.instance_for_test() as instance:
        yield instance


def resources(repo: TempRepo, home: Path) -> dict:
    return {
        "repository": RepositoryResource(location=str(repo.path), branch="main", home=str(home)),
        "artifacts": ArtifactStoreResource(home=str(home)),
    }


def tick(instance, repo: TempRepo, home: Path, cursor: str | None) -> dg.SensorResult:
    context = dg.build_sensor_context(instance=instance, cursor=cursor, resources=resources(repo, home))
    result = git_commit_sensor(context)
    for request in result.dynamic_partitions_requests or []:  # what the daemon does with them
        instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))
    return result


def test_definitions_load() -> None:
    from apiops_pipelines.definitions import defs

    assert defs.resolve_job_def("release").partitions_def == api_partitions
    assert defs.resolve_sensor_def("git_commit_sensor").default_status == dg.DefaultSensorStatus.RUNNING
    assert defs.resolve_assets_def("api_spec").partitions_def == api_partitions
    assert defs.resolve_sensor_def("verify_branch_sensor").job_name == "verify"
    assert defs.resolve_sensor_def("verify_branch_sensor").default_status == dg.DefaultSensorStatus.RUNNING


def test_verify_job_has_every_gate_and_nothing_that_deploys() -> None:
    from apiops_pipelines.definitions import defs

    release = {key.to_user_string() for key in defs.resolve_job_def("release").asset_layer.executable_asset_keys}
    verify = {key.to_user_string() for key in defs.resolve_job_def("verify").asset_layer.executable_asset_keys}
    # the shared mock keeps serving the tracked branch's spec; nothing reaches production
    assert verify == release - {"mock_server", "canary_release", "production_deployment"}
    assert {"canary_release", "production_deployment"} <= release
    gates = {"spec_validation", "breaking_changes", "contract_verification", "fuzz_report", "load_report"}
    assert gates <= verify
    checked = {key.asset_key.to_user_string() for key in defs.resolve_job_def("verify").asset_layer.asset_graph
               .asset_check_keys}  # fmt: skip
    assert gates <= checked


def test_sensor_adds_partitions_and_requests_runs_with_lineage_tags(instance, repo: TempRepo, home: Path) -> None:
    sha = repo.commit("estate", {**api("bookstore"), **api("orders")})
    result = tick(instance, repo, home, None)
    assert result.cursor == sha
    assert sorted(instance.get_dynamic_partitions("apis")) == ["bookstore", "orders"]
    requests = {r.partition_key: r for r in result.run_requests}
    assert set(requests) == {"bookstore", "orders"}
    assert requests["orders"].run_key == f"{sha}:orders"
    tags = requests["orders"].tags
    assert (tags["apiops/api"], tags["apiops/commit"], tags["apiops/branch"]) == ("orders", sha, "main")

    edit = repo.commit("orders only", {"orders/service/app.py": "V = 1\n"})
    result = tick(instance, repo, home, result.cursor)
    assert [(r.partition_key, r.tags["apiops/commit"]) for r in result.run_requests] == [("orders", edit)]


def test_sensor_reports_a_deleted_api_as_an_observation(instance, repo: TempRepo, home: Path) -> None:
    repo.commit("estate", {**api("bookstore"), **api("orders")})
    cursor = tick(instance, repo, home, None).cursor
    sha = repo.commit("retire orders", {"orders": None})
    result = tick(instance, repo, home, cursor)
    assert result.run_requests == []
    [observation] = result.asset_events
    assert observation.partition == "orders"
    assert observation.metadata["deleted_in_commit"].value == sha


def test_sensor_without_a_repository_skips_with_the_fix(instance, home: Path, tmp_path: Path) -> None:
    context = dg.build_sensor_context(
        instance=instance, resources={"repository": RepositoryResource(location="", home=str(home))}
    )
    result = git_commit_sensor(context)
    assert not result.run_requests
    assert result.skip_reason.skip_message == "no repository configured: set APIOPS_REPO to a path or clone URL"


def test_sensor_follows_a_clone_url_through_its_cache(instance, repo: TempRepo, home: Path) -> None:
    """A first clone can outlast a tick's 60 s: it goes on in the background and a later tick uses it."""
    sha = repo.commit("estate", api("bookstore"))
    context = lambda: dg.build_sensor_context(  # noqa: E731
        instance=instance,
        resources={"repository": RepositoryResource(location=f"file://{repo.path}", home=str(home))},
    )
    first = git_commit_sensor(context())
    assert not first.run_requests and "cloning" in str(first.skip_reason)
    deadline = time.monotonic() + 60
    while not list((home / "repos").glob("*.git/HEAD")) and time.monotonic() < deadline:
        time.sleep(0.2)
        git_commit_sensor(context())
    result = git_commit_sensor(context())
    assert [r.tags["apiops/commit"] for r in result.run_requests] == [sha]
    newer = repo.commit("edit", {"bookstore/service/app.py": "V = 1\n"})
    later = dg.build_sensor_context(
        instance=instance, cursor=result.cursor,
        resources={"repository": RepositoryResource(location=f"file://{repo.path}", home=str(home))},
    )  # fmt: skip
    assert [r.tags["apiops/commit"] for r in git_commit_sensor(later).run_requests] == [newer]


def test_api_spec_reads_a_clone_url_even_before_any_sensor_tick(instance, repo: TempRepo, home: Path) -> None:
    sha = repo.commit("estate", api("orders"))
    instance.add_dynamic_partitions("apis", ["orders"])
    result = dg.materialize(
        [api_spec], partition_key="orders", instance=instance, tags={"apiops/commit": sha},
        resources={"repository": RepositoryResource(location=f"file://{repo.path}", home=str(home)),
                   "artifacts": ArtifactStoreResource(home=str(home))},
    )  # fmt: skip
    assert result.success


def materialize(instance, repo: TempRepo, home: Path, api_name: str, tags: dict[str, str]):
    instance.add_dynamic_partitions("apis", [api_name])
    return dg.materialize(
        [api_spec], partition_key=api_name, instance=instance, resources=resources(repo, home), tags=tags,
        raise_on_error=False,
    )  # fmt: skip


def test_api_spec_bundles_the_commit_and_records_lineage(instance, repo: TempRepo, home: Path) -> None:
    files = api("bookstore", "2.1.0")
    files["bookstore/openapi.yaml"] += "components:\n  schemas:\n    Book: {$ref: 'schemas/book.yaml'}\n"
    files["bookstore/schemas/book.yaml"] = "type: object\nproperties: {title: {type: string}}\n"
    sha = repo.commit("bookstore 2.1.0", files)
    repo.commit("later change must not leak in", {"bookstore/schemas/book.yaml": "type: string\n"})

    result = materialize(instance, repo, home, "bookstore", {"apiops/commit": sha})
    assert result.success
    event = instance.get_latest_materialization_event(dg.AssetKey("api_spec"))
    materialization = event.asset_materialization
    metadata = {k: v.value for k, v in materialization.metadata.items()}
    assert metadata["commit"] == sha
    assert metadata["spec_version"] == "2.1.0"
    assert metadata["author"] == "Dev Eloper <dev@example.com>"
    assert metadata["operations"] == 1 and metadata["paths"] == 1
    stored = Path(metadata["bundled_spec"])
    assert stored == home / "artifacts" / "bookstore" / sha / "openapi.json"
    document = json.loads(stored.read_bytes())
    assert document["components"]["schemas"]["Book"]["properties"]["title"] == {"type": "string"}
    import hashlib

    digest = hashlib.sha256(stored.read_bytes()).hexdigest()
    assert metadata["spec_sha256"] == digest
    assert materialization.tags["dagster/data_version"] == digest


def test_api_spec_without_commit_tag_uses_branch_head_and_says_so(instance, repo: TempRepo, home: Path) -> None:
    sha = repo.commit("estate", api("orders"))
    assert materialize(instance, repo, home, "orders", {}).success
    event = instance.get_latest_materialization_event(dg.AssetKey("api_spec"))
    metadata = event.asset_materialization.metadata
    assert metadata["commit"].value == sha
    assert "head of branch 'main'" in metadata["commit_chosen_by"].value


def test_api_spec_fails_with_the_config_error_and_stores_nothing(instance, repo: TempRepo, home: Path) -> None:
    sha = repo.commit("typo", {"orders/apiops.yaml": "name: orders\nspec: openapi.yml\n",
                               "orders/openapi.yaml": api("orders")["orders/openapi.yaml"]})  # fmt: skip
    result = materialize(instance, repo, home, "orders", {"apiops/commit": sha})
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    message = failure.step_failure_data.error.message + str(failure.step_failure_data.user_failure_data)
    assert "orders/apiops.yaml:2: spec: file 'orders/openapi.yml' does not exist" in message
    assert not (home / "artifacts" / "orders").exists()


def test_api_spec_refuses_a_ref_outside_the_repository(instance, repo: TempRepo, home: Path) -> None:
    files = api("orders")
    files["orders/openapi.yaml"] += "components:\n  schemas:\n    X: {$ref: '../../../etc/passwd'}\n"
    sha = repo.commit("hostile", files)
    result = materialize(instance, repo, home, "orders", {"apiops/commit": sha})
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    assert "points outside the repository" in str(failure.step_failure_data.user_failure_data.description)


def test_the_code_location_never_imports_locust_or_gevent() -> None:
    """Importing locust monkey-patches the interpreter with gevent, and Dagster's code server then hangs."""
    script = ("import sys, apiops_pipelines.definitions as d; d.defs.resolve_job_def('release'); "
              "print(sorted(m for m in ('locust', 'gevent') if m in sys.modules))")  # fmt: skip
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_a_stage_links_the_upstream_materialization_and_run_it_was_computed_from(monkeypatch, instance) -> None:
    from apiops_pipelines.assets.lineage_links import upstream_table
    from apiops_pipelines.assets.run_spec import RunSpec

    monkeypatch.setenv("APIOPS_DAGSTER_URL", "http://dagster.example:3000/")
    apis = dg.StaticPartitionsDefinition(["orders"])
    spec = RunSpec("orders", "a" * 40, "f" * 64, "1.0.0", 1, Path("spec.json"))

    @dg.asset(partitions_def=apis)
    def api_spec() -> None:
        pass

    @dg.asset(partitions_def=apis)
    def never_materialized() -> None:
        pass

    @dg.asset(partitions_def=apis, deps=[api_spec, never_materialized])
    def spec_validation(context) -> dg.MaterializeResult:  # unannotated: Dagster cannot read a string annotation
        return dg.MaterializeResult(metadata={"upstream": dg.MetadataValue.md(upstream_table(context, spec))})

    first = dg.materialize([api_spec], instance=instance, partition_key="orders")
    dg.materialize([api_spec, never_materialized, spec_validation], instance=instance, partition_key="orders",
                   selection=[spec_validation])  # fmt: skip
    [record] = instance.fetch_materializations(dg.AssetKey("api_spec"), limit=1).records
    [stage] = instance.fetch_materializations(dg.AssetKey("spec_validation"), limit=1).records
    table = stage.asset_materialization.metadata["upstream"].value
    event = f"http://dagster.example:3000/assets/api_spec?partition=orders&time={int(record.timestamp * 1000)}"
    run = first.run_id
    assert f"| api_spec | [event {record.storage_id}, " in table and f"]({event}) |" in table
    assert f"[{run[:8]}](http://dagster.example:3000/runs/{run}) |" in table
    assert "| never_materialized | not materialized | — |" in table
    assert f"Commit `{'a' * 40}` (spec 1.0.0); `apiops lineage orders` walks the whole chain." in table
