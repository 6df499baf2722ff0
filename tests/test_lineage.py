"""`apiops lineage` after real releases: the chain follows Dagster's input event pointers from the production
release back through the canary and every gate to api_spec and the commit; after a rollback it names the
rollback and walks the release that first brought that commit to production; --history lists them all."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest
from estate_services import quick_runs
from platform_support import needs_haproxy, short_folder, take_down  # noqa: F401 (fixtures)
from service_support import free_port

from apiops_pipelines.definitions import defs
from apiops_pipelines.demo.estate import create_demo_repo
from apiops_pipelines.estate.git import run_git
from apiops_pipelines.platform import Platform
from apiops_pipelines.resources.artifacts import ArtifactStoreResource
from apiops_pipelines.resources.platform import PlatformResource
from apiops_pipelines.resources.repository import RepositoryResource

pytestmark = [pytest.mark.slow, needs_haproxy]
CHAIN = ["production_deployment", "canary_release", "load_report", "fuzz_report", "contract_verification",
         "staging_deployment", "breaking_changes", "mock_server", "spec_validation", "api_spec"]  # fmt: skip


def lineage(dagster_home: Path, *args: str) -> dict | list:
    env = {**os.environ, "DAGSTER_HOME": str(dagster_home)}
    done = subprocess.run([str(Path(sys.executable).parent / "apiops"), "lineage", "orders", *args, "--json"],
                          env=env, capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout)


def test_lineage_walks_from_production_to_the_commit_and_through_a_rollback(tmp_path, short_folder):
    repo, _ = create_demo_repo(tmp_path / "estate")
    quick_runs(repo / "orders" / "apiops.yaml")
    def commit(message: str) -> str:
        run_git(repo, "-c", "user.name=t", "-c", "user.email=t@e", "commit", "--allow-empty", "-qam", message)
        return run_git(repo, "rev-parse", "HEAD").decode().strip()

    first = commit("orders: short tests")
    dagster_home = tmp_path / "dagster"
    dagster_home.mkdir()
    (dagster_home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    resources = {"repository": RepositoryResource(location=str(repo), branch="main", home=str(short_folder)),
                 "artifacts": ArtifactStoreResource(home=str(short_folder)),
                 "platform": PlatformResource(home=str(short_folder), frontend=f"127.0.0.1:{free_port()}",
                                              stats=f"127.0.0.1:{free_port()}")}  # fmt: skip
    definitions = dg.Definitions(assets=defs.assets, asset_checks=defs.asset_checks, jobs=defs.jobs,
                                 resources=resources)  # fmt: skip
    try:
        with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
            instance.add_dynamic_partitions("apis", ["orders"])
            release = definitions.resolve_job_def("release")
            runs = [release.execute_in_process(instance=instance, partition_key="orders",
                                               tags={"apiops/commit": first}, raise_on_error=False)]  # fmt: skip
            assert runs[0].success
            chain = lineage(dagster_home)
            assert [node["asset"] for node in chain["chain"]] == CHAIN
            assert {node["run_id"] for node in chain["chain"]} == {runs[0].run_id}  # one run, all its stages
            spec = chain["chain"][-1]["metadata"]
            assert (spec["commit"], spec["branch"]) == (first, "main")
            checks = {c["name"]: c["passed"] for node in chain["chain"] for c in node["checks"]}
            assert checks["canary_analysis"] and checks["spec_is_valid"] and checks["load_within_slo"]
            assert chain["chain"][1]["run_url"].endswith(f"/runs/{runs[0].run_id}")

            second = commit("orders: a second release")
            runs.append(release.execute_in_process(instance=instance, partition_key="orders",
                                                   tags={"apiops/commit": second}, raise_on_error=False))  # fmt: skip
            assert runs[1].success
            rollback = definitions.resolve_job_def("rollback").execute_in_process(
                run_config={"ops": {"roll_back_production": {"config": {"api": "orders", "reason": "pager"}}}},
                instance=instance, raise_on_error=False)  # fmt: skip
            assert rollback.success
        after = lineage(dagster_home)
        assert after["release"]["metadata"]["kind"] == "rollback" and after["release"]["run_id"] == rollback.run_id
        assert after["release"]["metadata"]["commit"] == first
        assert [node["asset"] for node in after["chain"]] == CHAIN
        assert {node["run_id"] for node in after["chain"]} == {runs[0].run_id}  # the release that first shipped it
        by_commit = lineage(dagster_home, "--commit", second[:10])
        assert {node["run_id"] for node in by_commit["chain"]} == {runs[1].run_id}
        history = lineage(dagster_home, "--history")
        assert [(row["kind"], row["commit"]) for row in history] == [("rollback", first), ("release", second),
                                                                       ("release", first)]  # fmt: skip
        assert history[0]["reason"] == "pager"
    finally:
        take_down(Platform(short_folder / "platform"))
