"""Open the watched repository: a local path is read in place; a URL is cloned into a cache and fetched.

The cache keeps a ref on the last processed commit, so a force-push on the remote never makes the
commit the sensor must compare against disappear from under it. A first clone may take longer than a
sensor tick is allowed to (60 s by default), so a tick can start it in the background and return.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

from apiops_pipelines.processes import pid_alive
from apiops_pipelines.estate.git import GitError, GitRepo

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

    @property
    def _partial(self) -> Path:
        return self.repo.path.with_name(self.repo.path.name + ".partial")

    @contextlib.contextmanager
    def _locked(self, timeout_s: float) -> Iterator[None]:
        """One fetch at a time per cache (a sensor tick and a run may both want one)."""
        self.repo.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.repo.path.with_name(self.repo.path.name + ".lock"), "w") as handle:
            deadline = time.monotonic() + timeout_s
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise GitError(f"the cache of {redact(self.location)} stayed busy for {timeout_s:.0f}s") from None
                    time.sleep(0.2)
            yield

    def refresh(self, wait: bool = True, timeout_s: float = 600) -> bool:
        """Bring the cache up to date with the remote; False while a background first clone is running."""
        if not self.remote:
            return True
        with self._locked(timeout_s):
            if not (self.repo.path / "HEAD").exists() and not self._clone(wait, timeout_s):
                return False
            self.repo.git("fetch", "--quiet", "--prune", "origin", "+refs/heads/*:refs/heads/*", timeout=timeout_s)
        return True

    def _clone(self, wait: bool, timeout_s: float) -> bool:
        partial, marker = self._partial, self._partial.with_suffix(".pid")
        log = partial.with_suffix(".log")
        if marker.exists():
            pid = int(marker.read_text() or 0)
            deadline = time.monotonic() + timeout_s
            while pid and pid_alive(pid):  # a clone a sensor tick started in the background
                if not wait or time.monotonic() > deadline:
                    return False
                time.sleep(0.5)
            marker.unlink()
            if not (partial / "HEAD").exists() or partial.with_suffix(".failed").exists():
                detail = log.read_text(errors="replace").strip()[-500:] if log.exists() else ""
                shutil.rmtree(partial, ignore_errors=True)
                raise GitError(f"cloning {redact(self.location)} failed: {detail or 'no output'}")
        if not (partial / "HEAD").exists():
            shutil.rmtree(partial, ignore_errors=True)
            partial.with_suffix(".failed").unlink(missing_ok=True)
            command = ["sh", "-c", 'git clone --bare --quiet "$1" "$2" || touch "$3"', "clone",
                       self.location, str(partial), str(partial.with_suffix(".failed"))]  # fmt: skip
            with open(log, "wb") as out:
                process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                           env={**os.environ, "GIT_TERMINAL_PROMPT": "0"}, start_new_session=True)  # fmt: skip
            if not wait:
                marker.write_text(str(process.pid))
                return False
            try:
                process.wait(timeout_s)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, 9)
                process.wait()
                shutil.rmtree(partial, ignore_errors=True)
                raise GitError(f"cloning {redact(self.location)} took longer than {timeout_s:.0f}s") from None
            if partial.with_suffix(".failed").exists():
                shutil.rmtree(partial, ignore_errors=True)
                raise GitError(f"cloning {redact(self.location)} failed: {log.read_text(errors='replace').strip()[-500:]}")
        partial.rename(self.repo.path)
        return True

    def head(self) -> str:
        sha = self.repo.resolve(f"refs/heads/{self.branch}")
        if sha is None:
            raise GitError(f"branch '{self.branch}' does not exist in {redact(self.location)} (APIOPS_BRANCH)")
        return sha

    def ensure_commit(self, sha: str) -> None:
        """Make sure a run's commit is present (a fresh cache may not have it yet)."""
        if self.repo.resolve(sha) is None:
            if not self.refresh():
                raise GitError(f"the cache of {redact(self.location)} is still being cloned")
            if self.repo.resolve(sha) is None:
                raise GitError(f"commit {sha} is not in {redact(self.location)}")

    def pin(self, sha: str) -> None:
        if self.remote:
            self.repo.git("update-ref", f"{PROCESSED_REF}/{self.branch}", sha)
