"""The nightly job on real processes: HAProxy and supervisord started, the shop released to production through
the real delivery stages (its load measured, so production has a load baseline), then verified again by the
nightly job on a real Dagster instance. Its outcome is read back as Dagster stores it: the nightly_regression
check of the shop's partition of production_deployment, tied to the release it judged."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pytest
import yaml
from delivery_support import Shop, checks, materialized
from nightly_support import CONFIG, pact_on_branch, shop_files, spec
from platform_support import needs_haproxy, take_down

from apiops_pipelines.definitions import defs
from apiops_pipelines.estate.api_config import FuzzConfig
from apiops_pipelines.fuzz import run_fuzz
from apiops_pipelines.fuzz.memory import FuzzMemory
from apiops_pipelines.jobs.nightly import nightly_job
from apiops_pipelines.jobs.nightly_check import NIGHTLY_CHECK_KEY, nightly_regression_check
from apiops_pipelines.platform import Platform
from apiops_pipelines.sensors.check_failure_notice import check_notices
from apiops_pipelines.sensors.staging_teardown import staging_teardown

pytestmark = [pytest.mark.slow, needs_haproxy]

# Every stage of a release but the shared mock: the ledger then holds a gated spec, a verified load baseline
# and the production release, all of which the nightly must leave as they are.
RELEASE = ["api_spec", "spec_validation", "breaking_changes", "staging_deployment", "contract_verification",
           "fuzz_report", "load_report", "canary_release", "production_deployment"]


@dataclass
class Production:
    shop: Shop
    commit: str

    @property
    def memory(self) -> FuzzMemory:
        return FuzzMemory(self.shop.home / "ledger")


@pytest.fixture(scope="module")
def production(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Production]:
    home = Path(tempfile.mkdtemp(prefix="apx-", dir="/tmp"))  # short: Unix socket paths hold ~100 bytes
    try:
        with dg.instance_for_test() as instance:
            shop = Shop(tmp_path_factory.mktemp("nightly"), home, instance)
            try:
                commit = shop.repo.commit("shop 1.0.0", shop_files())
                result = dg.materialize(
                    [*defs.assets, nightly_regression_check], selection=RELEASE, partition_key="shop",
                    instance=instance, resources=shop.resources, tags={"apiops/commit": commit, "apiops/api": "shop"},
                )  # fmt: skip
                assert materialized(result)["production_deployment"]["commit"] == commit
                assert "nightly_regression" not in checks(result)  # a release only plans it: tonight evaluates it
                # what the staging_teardown sensor does once the release run has ended
                staging_teardown(dg.build_sensor_context(instance=instance, resources=shop.resources))
                yield Production(shop, commit)
            finally:
                take_down(Platform(home / "platform"))
    finally:
        shutil.rmtree(home, ignore_errors=True)


def run_nightly_job(production: Production) -> tuple[dg.ExecuteInProcessResult, dg.AssetCheckEvaluation]:
    shop = production.shop
    result = nightly_job.execute_in_process(
        instance=shop.instance, resources=shop.resources, raise_on_error=False,
        run_config={"ops": {"verify_production_release": {"config": {"api": "shop"}}}},
        tags={"apiops/api": "shop", "apiops/commit": production.commit, "apiops/job": "nightly"},
    )  # fmt: skip
    (evaluation,) = [e.asset_check_evaluation_data for e in result.all_events
                     if e.event_type_value == "ASSET_CHECK_EVALUATION"]  # fmt: skip
    return result, evaluation


def results(evaluation: dg.AssetCheckEvaluation) -> dict[str, str]:
    return evaluation.metadata["results"].value


def what_must_not_move(production: Production) -> dict:
    """Every ledger entry and baseline (the fuzz memory aside), what production routes and runs, and how many
    times production_deployment was materialized."""
    shop, ledger = production.shop, production.shop.home / "ledger"
    state = shop.platform.store.load()
    deployments = shop.instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=dg.AssetKey("production_deployment"), asset_partitions=["shop"]), limit=100
    ).records
    return {
        "ledger": {str(p.relative_to(ledger)): p.read_bytes() for p in sorted(ledger.rglob("*"))
                   if p.is_file() and not p.name.startswith(".") and p.name != "fuzz-failures.jsonl"},
        "deployment": shop.registry.load("shop"),
        "servers": [(s.name, s.weight, s.commit) for s in state.backend_of("shop").servers],
        "programs": sorted(state.programs),
        "staging_runs": sorted(p.stem for p in (shop.home / "staging").glob("*.json")),
        "production_materializations": [r.storage_id for r in deployments],
    }  # fmt: skip


def stored_state(production: Production):
    """The check's state for the shop as Dagster keeps it (what the UI reads)."""
    (info,) = [i for i in production.shop.instance.event_log_storage.get_asset_check_partition_info(
        [NIGHTLY_CHECK_KEY]) if i.partition_key == "shop"]  # fmt: skip
    return info


def test_a_clean_production_passes_its_nightly_and_nothing_is_deployed_or_moved(production: Production) -> None:
    before = what_must_not_move(production)
    assert {"shop/gated.json", "shop/verified.json", "shop/production.json"} <= set(before["ledger"])
    assert any(k.startswith("shop/load/") for k in before["ledger"])
    result, evaluation = run_nightly_job(production)
    assert result.success
    assert evaluation.passed, evaluation.metadata["gates"].value
    assert evaluation.partition == "shop" and evaluation.blocking is False
    gates = results(evaluation)
    judged = ("spec_is_valid", "governance_lint", "fuzz_checks_pass", "load_within_slo", "load_no_regression")
    assert {gate: gates[gate] for gate in judged} == dict.fromkeys(judged, "passed")
    assert gates["consumer_pacts_match_spec"] == gates["consumer_contracts_verified"] == "skipped"  # no consumers
    assert "the production release 1.0.0 @ " + production.commit[:12] in evaluation.metadata["gates"].value
    assert evaluation.metadata["commit"].value == production.commit
    assert what_must_not_move(production) == before  # nothing deployed, no baseline moved, staging stopped
    state = stored_state(production)
    assert state.latest_execution_status.value == "SUCCEEDED" and state.is_current


def test_a_consumer_pact_on_the_branch_head_that_production_does_not_meet_fails_the_nightly(
    production: Production,
) -> None:
    repo = production.shop.repo
    repo.commit("web-shop now expects a price", pact_on_branch())  # production stays at its commit
    try:
        before = what_must_not_move(production)
        result, evaluation = run_nightly_job(production)
    finally:
        repo.commit("web-shop is back to what it had", {"shop/apiops.yaml": CONFIG, "shop/pacts/web-shop.json": None})
    assert result.success  # a failed nightly is a red check, not a red run
    assert not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.ERROR
    gates = results(evaluation)
    assert gates["consumer_pacts_match_spec"] == "failed"  # the spec does not declare `price`
    assert gates["consumer_contracts_verified"] == "failed"  # and the running service does not return it
    assert "consumer_pacts_match_spec" in evaluation.description and "price" in evaluation.metadata["gates"].value
    assert what_must_not_move(production) == before
    state = stored_state(production)
    assert state.latest_execution_status.value == "FAILED" and state.is_current
    # what the notify_check_failures sensor posts for this green run
    run = production.shop.instance.get_run_by_id(result.run_id)
    (notice,) = check_notices(production.shop.instance, run)
    assert (notice.kind, notice.api, notice.commit) == ("nightly_check_failed", "shop", production.commit)


def test_a_recorded_fuzz_failure_that_replays_fails_the_nightly_though_fuzzing_cannot_reach_it(
    production: Production, tmp_path: Path,
) -> None:
    """The shop's spec once documented `sort`: fuzzing that spec found `sort=price` answering 500 and it was
    recorded. The spec no longer says `sort` exists, so fresh fuzzing never sends it; the bug is still there."""
    old = run_fuzz(yaml.safe_load(spec(documents_sort=True)), production.shop.url, FuzzConfig(max_examples=5),
                   tmp_path / "fuzz-of-the-old-spec", seed=1, workers=1)  # fmt: skip
    recorded = production.memory.record("shop", production.commit, old)  # what fuzz_report is to do as well
    assert ("not_a_server_error", "/items?sort=price") in {(c.check, c.target) for c in recorded}
    try:
        before = what_must_not_move(production)
        result, evaluation = run_nightly_job(production)
    finally:
        production.memory.file("shop").unlink()
    assert result.success and not evaluation.passed
    assert evaluation.severity == dg.AssetCheckSeverity.ERROR
    gates = results(evaluation)
    assert gates["fuzz_replay"] == "failed" and gates["fuzz_checks_pass"] == "passed"
    assert "not_a_server_error on GET /items?sort=price" in evaluation.description
    replay = next(production.shop.home.glob(f"artifacts/shop/{production.commit}/nightly-{result.run_id[:8]}/"
                                            "fuzz-replay/replay.md"))  # fmt: skip
    assert "/items?sort=price" in replay.read_text()
    assert what_must_not_move(production) == before
