"""The nightly engine without Dagster or a platform: what it reads from Git (today's ruleset and pacts at the
branch head, the spec at the production commit), the gates that need no service, the fuzz memory's file, and
which APIs a tick plans."""

from __future__ import annotations

import json
from pathlib import Path

from gitrepo import TempRepo
from nightly_support import RULESET, pact_on_branch, shop_files

from apiops_pipelines.delivery.deployments import ApiDeployment, DeployedRelease, DeploymentRegistry
from apiops_pipelines.delivery.release_ledger import ReleaseLedger
from apiops_pipelines.estate.git import GitRepo
from apiops_pipelines.fuzz.memory import FuzzMemory
from apiops_pipelines.fuzz.model import FailureExample, FailureGroup, FuzzReport
from apiops_pipelines.nightly import NightlyReport, production_runs
from apiops_pipelines.nightly import sources as nightly_sources
from apiops_pipelines.nightly.live_gates import LiveTarget, contracts_gate
from apiops_pipelines.nightly.sources import load_sources
from apiops_pipelines.nightly.spec_gates import spec_gates


def _gates(repo: TempRepo, production: str, tmp_path: Path) -> dict[str, object]:
    sources = load_sources(GitRepo(repo.path), "shop", production, repo.head(), "main")
    return {gate.gate: gate for gate in spec_gates(sources, tmp_path / "spec")}


def test_todays_ruleset_at_the_branch_head_judges_the_production_spec_and_only_warns(tmp_path: Path) -> None:
    repo = TempRepo(tmp_path / "repo")
    production = repo.commit("shop 1.0.0", shop_files())
    stricter = RULESET + "rules: {info-contact: error}\n"
    repo.commit("governance: every API names its owner", {"shop/.spectral.yaml": stricter})
    gates = _gates(repo, production, tmp_path)
    assert gates["spec_is_valid"].result == "passed"
    lint = gates["governance_lint"]
    assert lint.result == "failed" and lint.findings == 1 and "today's ruleset: shop/.spectral.yaml" in lint.summary
    report = NightlyReport("shop", production, "1.0.0", "", "main", repo.head(), tuple(gates.values()), tmp_path)
    assert not report.passed and report.severity == "WARN"  # production serves consumers as before


def test_a_broken_ruleset_at_the_branch_head_is_a_lint_error_that_says_why_and_validation_still_runs(
    tmp_path: Path,
) -> None:
    repo = TempRepo(tmp_path / "repo")
    production = repo.commit("shop 1.0.0", shop_files())
    repo.commit("a typo", {"shop/.spectral.yaml": "rules: {info-contact: {severity: loud}}\n"})
    gates = _gates(repo, production, tmp_path)
    assert gates["spec_is_valid"].result == "passed"
    assert gates["governance_lint"].result == "error" and ".spectral.yaml" in gates["governance_lint"].summary


def test_pacts_added_on_the_branch_head_are_checked_against_the_production_spec(tmp_path: Path) -> None:
    repo = TempRepo(tmp_path / "repo")
    production = repo.commit("shop 1.0.0", shop_files())
    repo.commit("web-shop expects a price", pact_on_branch())
    pacts = _gates(repo, production, tmp_path)["consumer_pacts_match_spec"]
    assert pacts.result == "failed" and pacts.findings == 1
    assert "price" in (tmp_path / "spec" / "pacts.md").read_text()
    report = NightlyReport("shop", production, "1.0.0", "", "main", repo.head(), (pacts,), tmp_path)
    assert report.severity == "ERROR"


def test_an_api_gone_from_the_branch_head_keeps_its_production_ruleset_and_pacts_with_a_note(tmp_path: Path) -> None:
    repo = TempRepo(tmp_path / "repo")
    production = repo.commit("shop 1.0.0", {**shop_files(), **pact_on_branch()})
    repo.commit("shop moves out", dict.fromkeys(shop_files(), None) | {"other/README": "elsewhere"})
    sources = load_sources(GitRepo(repo.path), "shop", production, repo.head(), "main")
    assert sources.today_commit == production and [p.consumer for p in sources.pacts] == ["web-shop"]
    assert "is not defined at the head of main" in sources.notes[0]


def test_a_broken_pact_is_one_problem_for_each_pact_gate(tmp_path: Path) -> None:
    """The contracts gate reported a pact it could not parse twice: once from the sources' parse errors and
    once more from the verifier, which was handed the same unparseable file."""
    repo = TempRepo(tmp_path / "repo")
    production = repo.commit("shop 1.0.0", shop_files())
    repo.commit("a half-written pact", {**pact_on_branch(), "shop/pacts/web-shop.json": '{"consumer": '})
    sources = load_sources(GitRepo(repo.path), "shop", production, repo.head(), "main")
    assert [e.file for e in sources.unreadable] == ["shop/pacts/web-shop.json"] and not sources.blob_errors
    target = LiveTarget("http://127.0.0.1:9", sources, repo.path, tmp_path / "reports",
                        ReleaseLedger(tmp_path / "ledger"), environ={})  # fmt: skip
    (tmp_path / "reports" / "contracts").mkdir(parents=True)
    contracts = contracts_gate(target)  # nothing parses, so the verifier has nothing to replay against the url
    assert contracts.result == "failed" and contracts.findings == 1
    assert (tmp_path / "reports" / "contracts" / "contracts.md").read_text().count("shop/pacts/web-shop.json") == 1
    pacts = spec_gates(sources, tmp_path / "spec")[-1]
    assert pacts.gate == "consumer_pacts_match_spec" and pacts.findings == 1


def test_the_catalog_is_read_once_when_production_is_the_branch_head(tmp_path: Path, monkeypatch) -> None:
    repo = TempRepo(tmp_path / "repo")
    production = repo.commit("shop 1.0.0", {**shop_files(), **pact_on_branch()})
    reads: list[str] = []
    real = nightly_sources.load_catalog
    monkeypatch.setattr(nightly_sources, "load_catalog", lambda r, commit: reads.append(commit) or real(r, commit))
    sources = load_sources(GitRepo(repo.path), "shop", production, production, "main")
    assert reads == [] and sources.today_commit == production and not sources.notes
    assert [p.consumer for p in sources.pacts] == ["web-shop"]


def test_the_fuzz_memory_keeps_each_replayable_case_once_and_names_a_damaged_line(tmp_path: Path) -> None:
    report = _fuzz_report(tmp_path / "fuzz")
    memory = FuzzMemory(tmp_path / "ledger")
    first = memory.record("shop", "c" * 40, report)
    assert [(c.check, c.target, c.status, c.headers) for c in first] == [
        ("not_a_server_error", "/items?sort=price", 500, {"Authorization": ["Bearer ${SHOP_TOKEN}"]})]
    assert memory.record("shop", "d" * 40, report) == []  # found again by a later run: kept once
    with memory.file("shop").open("a") as handle:
        handle.write("{not json\n")
    cases, problems = memory.cases("shop")
    assert [c.target for c in cases] == ["/items?sort=price"]
    assert len(problems) == 1 and problems[0].startswith(f"{memory.file('shop')}:2: ")


def test_a_tick_plans_stable_releases_only_and_skips_a_damaged_record_by_name(tmp_path: Path) -> None:
    registry = DeploymentRegistry(tmp_path / "deployments")
    release = DeployedRelease("a" * 40, "1.0.0", "", "s-1", "127.0.0.1:9", None, "run", 0.0)
    registry.save(ApiDeployment("shop", stable=release))
    registry.save(ApiDeployment("drafts", canary=release))
    (tmp_path / "deployments" / "broken.json").write_text("{")
    runs, problems = production_runs(registry, "2026-03-04")
    assert [(r.api, r.run_key) for r in runs] == [("shop", "shop:2026-03-04")]
    assert len(problems) == 1 and problems[0].startswith("broken: ")


def _fuzz_report(folder: Path) -> FuzzReport:
    """A fuzz run's report as run_fuzz returns it, with the NDJSON events schemathesis wrote: a 500 (replayable)
    and a schema-violating request it accepted (judged by how the case was generated: not replayable)."""
    folder.mkdir(parents=True)
    request = {"method": "GET", "uri": "http://127.0.0.1:4100/items?sort=price",
               "headers": {"Authorization": ["Bearer ${SHOP_TOKEN}"], "Content-Length": ["0"]}}  # fmt: skip
    scenario = {"ScenarioFinished": {"phase": "coverage", "recorder": {
        "interactions": {"c1": {"request": request, "response": {"status_code": 500}},
                         "c2": {"request": {**request, "uri": "http://127.0.0.1:4100/items/9"}}},
        "cases": {"c1": {"value": {"method": "GET", "path": "/items", "query": {"sort": "price"}}},
                  "c2": {"value": {"method": "GET", "path": "/items/{id}",
                                   "path_parameters": {"id": "9"}}}}}}}  # fmt: skip
    (folder / "events.ndjson").write_text(json.dumps(scenario) + "\n")
    failures = (
        FailureGroup("not_a_server_error", "ST101", "Server error", "GET /items", "critical", True, 1,
                     (FailureExample("c1", "coverage", "Server error", "curl ...", 500),)),
        FailureGroup("negative_data_rejection", "ST201", "Schema-violating request accepted", "GET /items/{id}",
                     "medium", False, 1, (FailureExample("c2", "coverage", "Invalid data", "curl ...", 200),)),
    )  # fmt: skip
    return FuzzReport(7, 2, 2, 2, {}, failures, replay="st run openapi.json --url http://127.0.0.1:4100 --seed 7",
                      files={"ndjson": folder / "events.ndjson"})  # fmt: skip
