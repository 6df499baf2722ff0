"""The gates' plumbing without Dagster: ref cycles, rulesets and pacts read from Git, the release ledger."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from gitrepo import TempRepo, api

from apiops_pipelines.estate.catalog import load_catalog
from apiops_pipelines.gates.from_git import pacts_at, ruleset_at
from apiops_pipelines.estate.git import GitRepo
from apiops_pipelines.lint import RulesetError
from apiops_pipelines.delivery.release_ledger import GATED, PRODUCTION, VERIFIED, LedgerError, Release, ReleaseLedger
from apiops_pipelines.validation import validate_spec

PACT = ('{"consumer": {"name": "web"}, "provider": {"name": "orders"}, "metadata": {"pactSpecification": '
        '{"version": "2.0.0"}}, "interactions": [{"description": "list", "request": {"method": "GET", '
        '"path": "/things"}, "response": {"status": 200}}]}')  # fmt: skip


def test_a_circle_of_references_is_a_validation_error() -> None:
    """A schema that is only a $ref to itself (through other refs) never resolves; it used to pass silently."""
    document = {"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": {},
                "components": {"schemas": {"A": {"$ref": "#/components/schemas/B"},
                                           "B": {"$ref": "#/components/schemas/A"},
                                           "Tree": {"type": "object", "properties": {
                                               "children": {"type": "array",
                                                            "items": {"$ref": "#/components/schemas/Tree"}}}}}}}  # fmt: skip
    cycles = [f for f in validate_spec(document) if f.rule == "ref-cycle"]
    assert sorted(f.pointer for f in cycles) == ["/components/schemas/A", "/components/schemas/B"]  # Tree is fine


def definition(repo: TempRepo, name: str):
    git = GitRepo(repo.path)
    return git, load_catalog(git, repo.head()).apis[name]


def test_ruleset_comes_from_the_commit_with_its_extends_chain(repo: TempRepo) -> None:
    files = api("orders")
    files["orders/apiops.yaml"] += "governance: {ruleset: ../rules/team.yaml}\n"
    files["rules/team.yaml"] = "extends: [./shared/base.yaml]\n"
    files["rules/shared/base.yaml"] = "extends: [[spectral:oas, off]]\nrules:\n  info-contact: error\n"
    repo.commit("rules", files)
    repo.commit("later edit on disk is not read", {"rules/shared/base.yaml": "rules: {}\n"})
    git, entry = definition(repo, "orders")
    older = repo.git("rev-parse", "HEAD~1").strip()
    with git:
        ruleset = ruleset_at(git, older, entry)
    assert ruleset.source == "rules/team.yaml"
    assert [r.name for r in ruleset.rules if r.enabled] == ["info-contact"]


def test_a_ruleset_extending_a_file_outside_the_repository_is_refused(repo: TempRepo) -> None:
    files = api("orders")
    files["orders/apiops.yaml"] += "governance: {ruleset: team.yaml}\n"
    files["orders/team.yaml"] = "extends: [../../../etc/ruleset.yaml]\n"
    repo.commit("hostile", files)
    git, entry = definition(repo, "orders")
    with git, pytest.raises(RulesetError, match="outside"):
        ruleset_at(git, repo.head(), entry)


def test_pacts_are_read_from_the_commit_and_a_symlinked_one_is_refused(repo: TempRepo) -> None:
    files = api("orders")
    files["orders/apiops.yaml"] += "contracts: {pacts: pacts}\n"
    files["orders/pacts/web.json"] = PACT
    files["orders/pacts/notes.txt"] = "not a pact"
    files["orders/pacts/nested/broken.json"] = "{"
    repo.commit("pacts", files)
    os.symlink("/etc/hostname", repo.path / "orders/pacts/link.json")
    repo.git("add", "orders/pacts/link.json")
    repo.git("commit", "-qm", "link")
    git, _ = definition(repo, "orders")
    with git:
        pacts, errors = pacts_at(git, repo.head(), "orders/pacts")
    assert [p.consumer for p in pacts] == ["web"]
    assert sorted(e.file for e in errors) == ["orders/pacts/link.json", "orders/pacts/nested/broken.json"]
    assert "symbolic link" in str(next(e for e in errors if e.file.endswith("link.json")))


def test_ledger_baseline_prefers_production_and_survives_a_restart(tmp_path: Path) -> None:
    ledger = ReleaseLedger(tmp_path)
    assert ledger.baseline("orders") is None
    ledger.record(Release("orders", GATED, "a" * 40, "1.0.0", "s1"), b'{"v": 1}')
    ledger.record(Release("orders", GATED, "b" * 40, "1.1.0", "s2"), b'{"v": 2}')
    assert ReleaseLedger(tmp_path).baseline("orders").commit == "b" * 40
    ledger.record(Release("orders", PRODUCTION, "a" * 40, "1.0.0", "s1"), b'{"v": 1}')
    baseline = ReleaseLedger(tmp_path).baseline("orders")
    assert (baseline.stage, baseline.spec_version) == (PRODUCTION, "1.0.0")
    assert ledger.spec_path(baseline).read_bytes() == b'{"v": 1}'
    assert [r.spec_version for r in ledger.history("orders")] == ["1.0.0", "1.1.0", "1.0.0"]


def test_load_baseline_is_production_else_the_last_verified_release(tmp_path: Path) -> None:
    ledger = ReleaseLedger(tmp_path)
    assert ledger.load_baseline("orders") is None
    ledger.record(Release("orders", GATED, "a" * 40, "1.0.0", "s1"), b"{}")
    assert ledger.load_baseline("orders") is None  # passing the spec gates measures no load
    ledger.record_load(Release("orders", VERIFIED, "a" * 40, "1.0.0", "s1"), b"{}", {"endpoints": {"GET /x": {}}})
    ledger.record_load(Release("orders", VERIFIED, "b" * 40, "1.1.0", "s2"), b"{}", {"endpoints": {}})
    release, load = ReleaseLedger(tmp_path).load_baseline("orders")
    assert (release.stage, release.commit, load) == (VERIFIED, "b" * 40, {"endpoints": {}})
    ledger.record(Release("orders", PRODUCTION, "a" * 40, "1.0.0", "s1"), b"{}")  # promoted: its load counts
    release, load = ledger.load_baseline("orders")
    assert (release.stage, load) == (PRODUCTION, {"endpoints": {"GET /x": {}}})


def test_a_damaged_load_baseline_names_its_file_and_the_fix(tmp_path: Path) -> None:
    ledger = ReleaseLedger(tmp_path)
    ledger.record_load(Release("orders", VERIFIED, "a" * 40, "1.0.0", "s1"), b"{}", {"endpoints": {}})
    (tmp_path / "orders" / "load" / f"{'a' * 40}.json").write_text("{not json")
    with pytest.raises(LedgerError, match=r"orders/load/a{40}\.json is damaged .* delete it"):
        ledger.load_baseline("orders")
