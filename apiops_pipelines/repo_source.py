"""Open the watched repository: a local path is read in place; a URL is cloned into a cache and fetched.

The cache keeps a ref on the last processed commit, so a force-push on the remote never makes the
commit the sensor must compare against disappear from under it.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from apiops_pipelines.git import GitError, GitRepo, run_git

_URL = re.compile(r"^(?:[a-z][a-z0-9+.-]*://|[\w.-]+@[\w.-]+:)", re.IGNORECASE)
PROCESSED_REF = "refs/apiops/processed"


def is_url(location: str) -> bool:
    return bool(_URL.match(location))


def redact(location: str) -> str:
    """A URL fit for logs and metadata: no password or token."""
    return re.sub(r"(://)[^/@]+@", r"\1***@", location)


class WatchedRepository:
    def __init__(self, location: str, branch: str, home: Path) -> None:
        if not location:
            raise GitError("no repository configured: set APIOPS_REPO to a path or clone URL")
        self.location, self.branch, self.home = location, branch, home
        self.remote = is_url(location)
        if self.remote:
            slug = re.sub(r"[^A-Za-z0-9]+", "-", redact(location).rsplit("/", 1)[-1]).strip("-")[:40]
            digest = hashlib.sha256(location.encode()).hexdigest()[:10]
            self.repo = GitRepo(home / "repos" / f"{slug}-{digest}.git")
        else:
            path = Path(location).expanduser().resolve()
            if not path.exists():
                raise GitError(f"repository {path} does not exist (APIOPS_REPO)")
            self.repo = GitRepo(path)

    def refresh(self) -> None:
        """Bring the cache up to date with the remote (no-op for a local path)."""
        if not self.remote:
            return
        if not (self.repo.path / "HEAD").exists():
            self.repo.path.parent.mkdir(parents=True, exist_ok=True)
            run_git(self.repo.path.parent, "clone", "--bare", "--quiet", self.location, self.repo.path.name, timeout=900)
        self.repo.git("fetch", "--quiet", "--prune", "origin", "+refs/heads/*:refs/heads/*", timeout=600)

    def head(self) -> str:
        sha = self.repo.resolve(f"refs/heads/{self.branch}")
        if sha is None:
            raise GitError(f"branch '{self.branch}' does not exist in {redact(self.location)} (APIOPS_BRANCH)")
        return sha

    def ensure_commit(self, sha: str) -> None:
        """Make sure a run's commit is present (a fresh cache may not have it yet)."""
        if self.repo.resolve(sha) is None:
            self.refresh()
            if self.repo.resolve(sha) is None:
                raise GitError(f"commit {sha} is not in {redact(self.location)}")

    def pin(self, sha: str) -> None:
        if self.remote:
            self.repo.git("update-ref", f"{PROCESSED_REF}/{self.branch}", sha)
