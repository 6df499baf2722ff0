"""The apiops.yaml a rollback starts its release from, and the one a stage works from: a broken file is
reported with the catalog's reason (file, line, key), never as a missing one."""

from __future__ import annotations

from pathlib import Path

import pytest
from gitrepo import TempRepo, api

from apiops_pipelines.delivery.rollback import RollbackError
from apiops_pipelines.estate.catalog import DefinitionUnavailable, definition_at
from apiops_pipelines.estate.git import GitRepo
from apiops_pipelines.jobs.rollback import production_service

SERVICE = "service: {command: [python, -m, http.server, '{port}'], health: /}\n"


@pytest.fixture
def repo(tmp_path: Path) -> TempRepo:
    return TempRepo(tmp_path / "estate")


def test_a_rollback_to_a_commit_with_a_broken_apiops_yaml_names_the_real_reason(repo: TempRepo) -> None:
    """A real failure: the rollback job reported a typo in apiops.yaml as "has no apiops.yaml with a service"."""
    files = api("orders")
    files["orders/apiops.yaml"] += SERVICE + "lod: {users: 5}\n"
    sha = repo.commit("orders with a typo", files)
    with pytest.raises(RollbackError) as caught:
        production_service(GitRepo(repo.path), "orders", sha)
    message = str(caught.value)
    assert message.startswith(f"'orders' at {sha[:12]}: orders/apiops.yaml:4: lod: unknown key 'lod'")
    assert "did you mean 'load'?" in message and "has no apiops.yaml" not in message


def test_a_rollback_to_a_release_without_a_service_says_so(repo: TempRepo) -> None:
    sha = repo.commit("orders, lint only", api("orders"))
    with pytest.raises(RollbackError, match="orders/apiops.yaml has no service to start"):
        production_service(GitRepo(repo.path), "orders", sha)


def test_a_rollback_finds_the_production_service_of_the_release(repo: TempRepo) -> None:
    files = api("orders")
    files["orders/apiops.yaml"] += SERVICE
    sha = repo.commit("orders with a service", files)
    definition, service = production_service(GitRepo(repo.path), "orders", sha)
    assert (definition.config_path, service.health) == ("orders/apiops.yaml", "/")


def test_definition_at_names_a_missing_api(repo: TempRepo) -> None:
    sha = repo.commit("orders", api("orders"))
    with pytest.raises(DefinitionUnavailable, match=f"no apiops.yaml with 'name: books' at {sha[:12]}"):
        definition_at(GitRepo(repo.path), sha, "books")
