from __future__ import annotations

import hashlib
from pathlib import Path

import dagster as dg

from apiops_pipelines.estate.repo_source import WatchedRepository
from apiops_pipelines.settings import apiops_home
from apiops_pipelines.specs.sources import RefPolicy


class RepositoryResource(dg.ConfigurableResource):
    """The watched Git repository of API definitions: a local path or a clone URL, and its branch."""

    location: str = ""
    branch: str = "main"
    home: str = ""
    allow_remote_refs: bool = False

    def home_path(self) -> Path:
        return Path(self.home).expanduser() if self.home else apiops_home()

    def watched(self) -> WatchedRepository:
        return WatchedRepository(self.location, self.branch, self.home_path())

    def ref_policy(self) -> RefPolicy:
        return RefPolicy(allow_remote=self.allow_remote_refs)

    def state_folder(self, kind: str) -> Path:
        """A folder private to this repository and branch (sensor indexes and the like)."""
        key = hashlib.sha256(f"{self.location}\0{self.branch}".encode()).hexdigest()[:16]
        return self.home_path() / kind / key
