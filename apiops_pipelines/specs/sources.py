"""Where a spec's files come from: a Git commit (pipeline runs) or a folder (the CLI on a laptop).

A source only hands out files inside its root; a path that leaves it, an absolute path or a `file:` URL
is refused. Remote `$ref`s (http/https) are fetched only when the policy allows it, with a size cap.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit


from apiops_pipelines.specs.documents import Limits
from apiops_pipelines.estate.git import GitRepo


class SourceError(Exception):
    """A file cannot be handed out; `message` and `fix` say why and what to do."""

    def __init__(self, message: str, fix: str | None = None) -> None:
        super().__init__(message)
        self.message, self.fix = message, fix


class FileSource(Protocol):
    def read(self, path: str) -> bytes: ...


@dataclass(frozen=True)
class RefPolicy:
    allow_remote: bool = False
    allowed_hosts: tuple[str, ...] = ()  # empty: any host, once remote refs are allowed
    timeout_s: float = 10.0


def is_remote(ref_target: str) -> bool:
    return ref_target.startswith(("http://", "https://"))


class GitSource:
    """Files of one commit, read from Git objects."""

    def __init__(self, repo: GitRepo, commit: str, limits: Limits) -> None:
        self.repo, self.commit, self.limits = repo, commit, limits

    def read(self, path: str) -> bytes:
        entry = self.repo.entries(self.commit, [path])[path]
        if entry is None or entry.kind != "blob":
            raise SourceError(f"'{path}' does not exist at commit {self.commit[:12]}",
                              fix="commit the file or correct the reference")  # fmt: skip
        if self.repo.is_symlink(self.commit, path):  # its content is a path, maybe outside the repository
            raise SourceError(f"'{path}' is a symbolic link", fix="commit the file itself, not a link to it")
        if entry.size is not None and entry.size > self.limits.max_bytes:
            raise SourceError(f"'{path}' is {entry.size:,} bytes, over the limit of {self.limits.max_bytes:,}",
                              fix="split it into smaller files")  # fmt: skip
        return self.repo.read_blob(entry.sha)


class DirectorySource:
    """Files below a folder of the local disk; symlinks may not lead out of it."""

    def __init__(self, root: Path, limits: Limits) -> None:
        self.root, self.limits = root.resolve(), limits

    def read(self, path: str) -> bytes:
        target = (self.root / path).resolve()
        if not target.is_relative_to(self.root):
            raise SourceError(f"'{path}' leads outside {self.root}", fix="keep referenced files inside the folder")
        if not target.is_file():
            raise SourceError(f"'{path}' does not exist", fix="create the file or correct the reference")
        size = target.stat().st_size
        if size > self.limits.max_bytes:
            raise SourceError(f"'{path}' is {size:,} bytes, over the limit of {self.limits.max_bytes:,}",
                              fix="split it into smaller files")  # fmt: skip
        return target.read_bytes()


def fetch_remote(url: str, policy: RefPolicy, limits: Limits) -> bytes:
    """A remote `$ref` target, if the policy allows it; never more than the size limit."""
    import httpx  # only here: importing it costs the CLI ~0.1 s at every start

    if not policy.allow_remote:
        raise SourceError(
            f"remote reference {url} is not allowed",
            fix="vendor the file into the repository and use a relative $ref, or allow remote refs "
            "(APIOPS_ALLOW_REMOTE_REFS=1)",
        )
    host = urlsplit(url).hostname or ""
    if policy.allowed_hosts and host not in policy.allowed_hosts:
        raise SourceError(f"remote host {host} is not in the allowed list {list(policy.allowed_hosts)}")
    chunks, size = [], 0
    try:
        with httpx.stream("GET", url, timeout=policy.timeout_s, follow_redirects=False) as response:
            if response.status_code != 200:
                raise SourceError(f"fetching {url} answered HTTP {response.status_code}")
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > limits.max_bytes:
                    raise SourceError(f"{url} is larger than {limits.max_bytes:,} bytes")
                chunks.append(chunk)
    except httpx.HTTPError as exc:
        raise SourceError(f"fetching {url} failed: {exc}") from None
    return b"".join(chunks)


def join_ref(base_file: str, target: str) -> str | None:
    """The repository path (or URL) of a ref target written in `base_file`; None if it leaves the repo."""
    if is_remote(base_file):
        from urllib.parse import urljoin

        return urljoin(base_file, target)
    if target.startswith("/") or urlsplit(target).scheme:
        return None
    joined = posixpath.normpath(posixpath.join(posixpath.dirname(base_file), target))
    if joined == ".." or joined.startswith("../"):
        return None
    return joined
