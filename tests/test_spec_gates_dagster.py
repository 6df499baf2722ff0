"""spec_validation and breaking_changes on a real instance, with the example estate and its story."""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg
import pytest

from apiops_pipelines.assets.api_spec import api_spec
from apiops_pipelines.assets.breaking_changes import breaking_changes
from apiops_pipelines.assets.spec_validation import spec_validation
from apiops_pipelines.demo.estate import create_demo_repo, replay_step, story_steps
from apiops_pipelines.estate.git import run_git
from apiops_pipelines.delivery.release_ledger import GATED, ReleaseLedger
from apiops_pipelines.resources.artifacts import ArtifactStoreResource
from apiops_pipelines.resources.repository import RepositoryResource

GATES = [api_spec, spec_validation, breaking_changes]


@pytest.fixture
def instance():
    with dg.instance_for_test() as instance:
        yield instance


@pytest.fixture
def estate(tmp_path: Path) -> Path:
    path, _ = create_demo_repo(tmp_path / "estate")
    return path


def run(instance, estate: Path, home: Path, api: str, commit: str | None = None) -> dg.ExecuteInProcessResult:
    instance.add_dynamic_partitions("apis", [api])
    commit = commit or run_git(estate, "rev-parse", "HEAD").decode().strip()
    return dg.materialize(
        GATES, partition_key=api, instance=instance, tags={"apiops/commit": commit}, raise_on_error=False,
        resources={"repository": RepositoryResource(location=str(estate), branch="main", home=str(home)),
                   "artifacts": ArtifactStoreResource(home=str(home))},
    )  # fmt: skip


def checks(result: dg.ExecuteInProcessResult) -> dict[str, dg.AssetCheckEvaluation]:
    return {e.check_name: e for e in result.get_asset_check_evaluations()}


def materialized(result: dg.ExecuteInProcessResult) -> set[str]:
    return {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()
            if e.event_type_value == "ASSET_MATERIALIZATION"}  # fmt: skip


def commit_files(estate: Path, files: dict[str, str], message: str) -> str:
    for name, text in files.items():
        (estate / name).parent.mkdir(parents=True, exist_ok=True)
        (estate / name).write_text(text)
    run_git(estate, "add", "-A")
    run_git(estate, "-c", "user.name=T", "-c", "user.email=t@example.com", "commit", "-qm", message)
    return run_git(estate, "rev-parse", "HEAD").decode().strip()


def test_clean_estate_passes_every_gate_and_becomes_the_baseline(instance, estate: Path, home: Path) -> None:
    result = run(instance, estate, home, "orders")
    assert result.success
    assert materialized(result) == {"api_spec", "spec_validation", "breaking_changes"}
    evaluations = checks(result)
    assert {name: e.passed for name, e in evaluations.items()} == {
        "spec_is_valid": True, "governance_lint": True, "breaking_changes_versioned": True,
        "consumer_pacts_match_spec": True}  # fmt: skip
    assert evaluations["consumer_pacts_match_spec"].metadata["consumers"].value == 1
    head = run_git(estate, "rev-parse", "HEAD").decode().strip()
    baseline = ReleaseLedger(home / "ledger").baseline("orders")
    assert (baseline.stage, baseline.commit) == (GATED, head)
    validation = next(e for e in result.get_asset_materialization_events()
                      if e.asset_key == dg.AssetKey("spec_validation")).materialization  # fmt: skip
    assert validation.metadata["commit"].value == head
    assert validation.metadata["ruleset"].value == ".spectral.yaml"  # the estate's own ruleset, from Git
    assert Path(validation.metadata["reports"].value["lint.sarif"]).is_file()


def test_breaking_change_without_major_bump_and_broken_pact_block_and_keep_the_baseline(
    instance, estate: Path, home: Path
) -> None:
    first = run_git(estate, "rev-parse", "HEAD").decode().strip()
    assert run(instance, estate, home, "orders").success
    step = next(s for s in story_steps() if s.slug.startswith("02"))
    replay_step(estate, step)
    result = run(instance, estate, home, "orders")
    assert not result.success
    evaluations = checks(result)
    semver, pacts = evaluations["breaking_changes_versioned"], evaluations["consumer_pacts_match_spec"]
    assert not semver.passed and semver.severity == dg.AssetCheckSeverity.ERROR
    assert "bump info.version to 2.0.0" in semver.description
    assert not pacts.passed and "3 of 6 interaction(s)" in pacts.description
    assert "customerId" in pacts.metadata["results"].value
    changelog = next(e for e in result.get_asset_materialization_events()
                     if e.asset_key == dg.AssetKey("breaking_changes")).materialization.metadata["changelog"].value  # fmt: skip
    assert "property 'customerId' removed" in changelog and "**5 breaking**" in changelog
    assert ReleaseLedger(home / "ledger").baseline("orders").commit == first  # a rejected spec is no baseline

    revert = next(s for s in story_steps() if s.slug.startswith("03"))
    replay_step(estate, revert)
    assert run(instance, estate, home, "orders").success  # judged against what consumers have: no change


def test_invalid_spec_blocks_before_the_diff_and_points_at_the_line(instance, estate: Path, home: Path) -> None:
    spec = (estate / "orders" / "openapi.yaml").read_text()
    broken = spec.replace("/orders/{orderId}:", "/orders/{orderNumber}:", 1)
    assert broken != spec
    commit_files(estate, {"orders/openapi.yaml": broken}, "rename the path parameter in the path only")
    result = run(instance, estate, home, "orders")
    assert not result.success
    lint = checks(result)["governance_lint"]  # path-params: a rule of spectral:oas, an error there
    assert not lint.passed and checks(result)["spec_is_valid"].passed
    table = lint.metadata["findings"].value
    line = next(n for n, text in enumerate(broken.splitlines(), 1) if "/orders/{orderNumber}:" in text)
    assert any(f"orders/openapi.yaml:{n}:" in table for n in range(line, line + 4))  # the path item's lines
    assert "breaking_changes" not in materialized(result)  # the blocking check stopped the run there


def test_semver_warn_policy_shows_the_breaking_change_without_blocking(instance, estate: Path, home: Path) -> None:
    assert run(instance, estate, home, "bookstore").success
    config = (estate / "bookstore" / "apiops.yaml").read_text()
    spec = (estate / "bookstore" / "openapi.yaml").read_text()
    assert "  ruleset: ../.spectral.yaml\n" in config
    commit_files(estate, {
        "bookstore/apiops.yaml": config.replace("  ruleset: ../.spectral.yaml\n",
                                                "  ruleset: ../.spectral.yaml\n  semver: warn\n"),
        "bookstore/openapi.yaml": spec.replace("  /books/{bookId}:", "  /volumes/{bookId}:", 1),
    }, "rename a path without a major bump, under the warn policy")  # fmt: skip
    result = run(instance, estate, home, "bookstore")
    semver = checks(result)["breaking_changes_versioned"]
    assert not semver.passed and semver.severity == dg.AssetCheckSeverity.WARN
    assert "breaking_changes" in materialized(result)


def test_the_apis_own_ruleset_is_read_from_git_with_its_extends(instance, estate: Path, home: Path) -> None:
    config = (estate / "orders" / "apiops.yaml").read_text()
    assert "ruleset: ../.spectral.yaml" in config
    base = ("rules:\n  paths-lowercase:\n    given: $.paths[*]~\n    severity: error\n"
            "    message: path {{value}} is not lowercase\n"
            "    then: {function: pattern, functionOptions: {match: '^[a-z0-9/{}-]+$'}}\n")  # fmt: skip
    commit_files(estate, {
        "orders/apiops.yaml": config.replace("ruleset: ../.spectral.yaml", "ruleset: rules/main.yaml"),
        "orders/rules/main.yaml": "extends: [./base.yaml]\nrules:\n  info-contact: error\n",
        "orders/rules/base.yaml": base,
    }, "orders: a ruleset of its own, with a rule it does not define")  # fmt: skip
    result = run(instance, estate, home, "orders")
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    assert "orders/rules/main.yaml:3:3: rule info-contact is not defined" in str(failure.step_failure_data.user_failure_data.description)

    commit_files(estate, {"orders/rules/main.yaml": "extends: [spectral:oas, ./base.yaml]\n"}, "extend spectral:oas")
    result = run(instance, estate, home, "orders")
    lint = checks(result)["governance_lint"]
    assert not lint.passed and lint.metadata["ruleset"].value == "orders/rules/main.yaml"
    assert "paths-lowercase" in lint.metadata["findings"].value and "/orders/{orderId}" in lint.metadata["findings"].value
    assert "breaking_changes" not in materialized(result)


def test_a_stage_whose_stored_bundle_is_gone_says_to_materialize_api_spec_again(instance, estate: Path,
                                                                                  home: Path) -> None:  # fmt: skip
    assert run(instance, estate, home, "orders").success
    head = run_git(estate, "rev-parse", "HEAD").decode().strip()
    (home / "artifacts" / "orders" / head / "openapi.json").unlink()
    result = dg.materialize(
        [breaking_changes], partition_key="orders", instance=instance, raise_on_error=False,
        resources={"repository": RepositoryResource(location=str(estate), branch="main", home=str(home)),
                   "artifacts": ArtifactStoreResource(home=str(home))},
    )  # fmt: skip
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    assert "is gone" in str(failure.step_failure_data.user_failure_data.description)
    assert "materialize api_spec again" in str(failure.step_failure_data.user_failure_data.description)


def test_the_pact_check_blocks_an_undeclared_response_property_unless_apiops_yaml_allows_it(
    instance, estate: Path, home: Path
) -> None:
    pact_file = estate / "orders" / "pacts" / "checkout-orders.json"
    pact = json.loads(pact_file.read_text())
    read = next(i for i in pact["interactions"] if i["description"] == "a request for an order")
    read["response"]["body"]["content"]["loyaltyPoints"] = 12
    commit_files(estate, {"orders/pacts/checkout-orders.json": json.dumps(pact, indent=2)},
                 "checkout expects loyaltyPoints, which orders never promised")  # fmt: skip
    result = run(instance, estate, home, "orders")
    pacts = checks(result)["consumer_pacts_match_spec"]
    assert not result.success and not pacts.passed and "1 of 6 interaction(s)" in pacts.description
    assert "$.loyaltyPoints" in pacts.metadata["results"].value
    assert pacts.metadata["additional_properties_in_response"].value is False

    config = (estate / "orders" / "apiops.yaml").read_text()
    assert "  provider_states: /_pact/provider-states\n" in config
    commit_files(estate, {"orders/apiops.yaml": config.replace(
        "  provider_states: /_pact/provider-states\n",
        "  provider_states: /_pact/provider-states\n  additional_properties_in_response: true\n")},
        "orders accepts consumers reading properties it does not declare")  # fmt: skip
    result = run(instance, estate, home, "orders")
    pacts = checks(result)["consumer_pacts_match_spec"]
    assert result.success and pacts.passed and pacts.metadata["warnings"].value == 1
    assert pacts.metadata["additional_properties_in_response"].value is True
