"""`apiops` as a user types it: exit codes, one-line errors, and the demo story driving the sensor."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from gitrepo import TempRepo, api

from apiops_pipelines.estate.catalog import load_catalog
from apiops_pipelines.estate.commit_scan import plan_tick
from apiops_pipelines.demo.estate import create_demo_repo
from apiops_pipelines.estate.index import IndexStore
from apiops_pipelines.estate.git import GitRepo


def apiops(*args: str, home: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "apiops_pipelines.cli", *args], capture_output=True, text=True, timeout=120,
        env={"APIOPS_HOME": str(home), "PATH": "/usr/bin:/bin"},
    )  # fmt: skip


def test_catalog_exits_0_when_clean_and_1_with_config_errors(repo: TempRepo, home: Path) -> None:
    repo.commit("clean", api("bookstore"))
    clean = apiops("catalog", "--repo", str(repo.path), home=home)
    assert clean.returncode == 0, clean.stderr
    assert "bookstore" in clean.stdout
    repo.commit("typo", {"orders/apiops.yaml": "name: orders\nspec: openapi.yaml\nfuz: {}\n"})
    broken = apiops("catalog", "--repo", str(repo.path), home=home)
    assert broken.returncode == 1
    assert "orders/apiops.yaml:3: fuz: unknown key 'fuz' (did you mean 'fuzz'?)" in broken.stdout


def test_unusable_input_exits_2_with_one_line_and_no_traceback(tmp_path: Path, home: Path) -> None:
    spec = tmp_path / "openapi.yaml"
    spec.write_text("openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths:\n  /x: {$ref: '/etc/passwd'}\n")
    result = apiops("bundle", str(spec), "--root", str(tmp_path), home=home)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("apiops: openapi.yaml:4:")
    assert "points outside the repository" in result.stderr
    missing = apiops("catalog", "--repo", str(tmp_path), "--commit", "nope", home=home)
    assert missing.returncode == 2 and "Traceback" not in missing.stderr


def test_bundle_prints_identity_and_writes_the_document(tmp_path: Path, home: Path) -> None:
    (tmp_path / "schemas").mkdir()
    (tmp_path / "schemas" / "pet.yaml").write_text("type: object\n")
    spec = tmp_path / "openapi.yaml"
    spec.write_text("openapi: 3.1.0\ninfo: {title: Pets, version: 2.0.0}\npaths: {}\n"
                    "components: {schemas: {Pet: {$ref: 'schemas/pet.yaml'}}}\n")  # fmt: skip
    result = apiops("bundle", str(spec), "--root", str(tmp_path), "--out", str(tmp_path / "out.json"), home=home)
    assert result.returncode == 0, result.stderr
    assert '"version": "2.0.0"' in result.stdout and '"schemas/pet.yaml"' in result.stdout
    assert '"Pet":{"type":"object"}' in (tmp_path / "out.json").read_text()


def test_story_needs_the_demo_repository_first(home: Path) -> None:
    result = apiops("story", "--next", home=home)
    assert result.returncode == 2 and "run 'apiops demo' first" in result.stderr


@pytest.mark.slow
def test_every_story_step_commits_a_valid_estate_and_starts_a_run_for_its_api(home: Path, tmp_path: Path) -> None:
    repo_path, created = create_demo_repo(home / "demo" / "estate")
    assert created
    git = GitRepo(repo_path)
    store = IndexStore(tmp_path / "index")
    cursor = git.resolve("main")
    assert {r.api for r in plan_tick(git, store, None, cursor).runs} == {"bookstore", "orders"}
    expected = ["bookstore", "orders", "orders", "bookstore", "orders", "orders"]  # one API per story step
    for api_name in expected:
        result = apiops("story", "--next", home=home)
        assert result.returncode == 0, result.stderr
        head = git.resolve("main")
        catalog = load_catalog(git, head)
        assert set(catalog.apis) == {"bookstore", "orders"} and catalog.errors == []
        assert [r.api for r in plan_tick(git, store, cursor, head).runs] == [api_name], result.stdout
        cursor = head
    listing = apiops("story", "--list", home=home)
    assert listing.stdout.count("[x]") == len(expected)
    assert "already in the demo repository" in apiops("story", "--next", home=home).stdout
