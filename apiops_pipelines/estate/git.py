"""Read a Git repository through the `git` command: commits, changed paths and file contents at a commit.

Everything is read from Git objects, never from a working tree, so a run sees exactly the commit it was
started for. Batch commands (`cat-file --batch`, one `git log` for a range) keep a sensor tick's cost
proportional to the number of new commits, not to the size of the history.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from apiops_pipelines.estate.git_objects import CatFileError, ObjectReader

_ENV = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"}  # never wait for a password prompt


class GitError(RuntimeError):
    """A git command failed; the message says which and why."""


@dataclass(frozen=True)
class Change:
    status: str  # A, M, D, T (type change)
    path: str


@dataclass(frozen=True)
class CommitChanges:
    sha: str
    changes: tuple[Change, ...]


@dataclass(frozen=True)
class CommitInfo:
    sha: str
    author: str
    email: str
    date: str  # ISO 8601, author date
    message: str


@dataclass(frozen=True)
class Entry:
    kind: str  # blob, tree or commit (a submodule)
    sha: str
    size: int | None  # blobs only


def run_git(cwd: Path | str, *args: str, input: bytes | None = None, timeout: float = 120) -> bytes:
    try:
        done = subprocess.run(
            ["git", *args], cwd=cwd, input=input, capture_output=True, env=_ENV, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        raise GitError(f"git {args[0]} timed out after {timeout:.0f}s in {cwd}") from None
    except FileNotFoundError:
        raise GitError("git is not installed (apt-get install git)") from None
    if done.returncode != 0:
        detail = done.stderr.decode(errors="replace").strip() or f"exit code {done.returncode}"
        raise GitError(f"git {' '.join(args[:3])} failed in {cwd}: {detail}")
    return done.stdout


class GitRepo:
    """One local repository (a working copy or a bare cache clone)."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._objects: ObjectReader | None = None

    def git(self, *args: str, input: bytes | None = None, timeout: float = 120) -> bytes:
        return run_git(self.path, *args, input=input, timeout=timeout)

    def resolve(self, rev: str) -> str | None:
        """The full SHA of a commit, or None when `rev` names no commit here."""
        try:
            out = self.git("rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}")
        except GitError:
            return None
        return out.decode().strip() or None

    def is_ancestor(self, ancestor: str, descendant: str) -> bool:
        done = subprocess.run(
            ["git", "merge-base", "--is-ancestor", ancestor, descendant],
            cwd=self.path, capture_output=True, env=_ENV, timeout=60, check=False,
        )  # fmt: skip
        return done.returncode == 0

    def merge_base(self, a: str, b: str) -> str | None:
        try:
            return self.git("merge-base", a, b).decode().strip() or None
        except GitError:
            return None

    def commit_changes(self, old: str | None, new: str) -> list[CommitChanges]:
        """The first-parent commits after `old` up to `new`, oldest first, with the paths each changed."""
        rng = f"{old}..{new}" if old else new
        out = self.git(
            "log", "--first-parent", "--diff-merges=first-parent", "--no-renames", "--name-status",
            "-z", "--format=%x01%H", "--reverse", rng, "--",
        )  # fmt: skip
        result = []
        for chunk in out.split(b"\x01")[1:]:
            head, _, body = chunk.partition(b"\0")
            fields = body.lstrip(b"\n").split(b"\0")
            changes = tuple(
                Change(fields[i].decode()[:1], fields[i + 1].decode(errors="surrogateescape"))
                for i in range(0, len(fields) - 1, 2)
                if fields[i]
            )
            result.append(CommitChanges(head.decode().strip(), changes))
        return result

    def diff(self, old: str, new: str) -> tuple[Change, ...]:
        """Paths that differ between two commits' trees (for a force-push: what we saw vs what is there)."""
        out = self.git("diff", "--no-renames", "--name-status", "-z", old, new, "--")
        fields = out.split(b"\0")
        return tuple(
            Change(fields[i].decode()[:1], fields[i + 1].decode(errors="surrogateescape"))
            for i in range(0, len(fields) - 1, 2)
            if fields[i]
        )

    def list_files(self, commit: str, under: str = "") -> list[str]:
        """Every file path of a commit (optionally below one folder)."""
        args = ["ls-tree", "-r", "-z", "--name-only", commit]
        if under:
            args += ["--", under]
        out = self.git(*args)
        return [p.decode(errors="surrogateescape") for p in out.split(b"\0") if p]

    def objects(self) -> ObjectReader:
        """The repository's long-lived cat-file processes, started on first use, ended by `close()`."""
        if self._objects is None:
            self._objects = ObjectReader(self.path)
        return self._objects

    def close(self) -> None:
        if self._objects is not None:
            self._objects.close()
            self._objects = None

    def __enter__(self) -> GitRepo:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def entries(self, commit: str, paths: list[str]) -> dict[str, Entry | None]:
        """Kind, object id and size of each path at `commit` (None where the path does not exist)."""
        result: dict[str, Entry | None] = {p: None for p in paths}
        names = [p for p in paths if "\n" not in p]
        if not names:
            return result
        try:
            found = self.objects().describe([f"{commit}:{p}" for p in names])
        except CatFileError as exc:
            self.close()
            raise GitError(f"{exc} in {self.path}") from None
        for path, item in zip(names, found, strict=True):
            if item is not None:
                kind, sha, size = item
                result[path] = Entry(kind, sha, size if kind == "blob" else None)
        return result

    def read_files(self, commit: str, paths: list[str], max_bytes: int | None = None) -> dict[str, bytes | None]:
        """Contents of files at `commit`; None for a missing path or one over `max_bytes` (check sizes first)."""
        found = self.entries(commit, paths)
        wanted = [
            p for p, e in found.items() if e is not None and e.kind == "blob" and (max_bytes is None or e.size <= max_bytes)
        ]
        result: dict[str, bytes | None] = {p: None for p in paths}
        if not wanted:
            return result
        try:
            contents = self.objects().contents([found[p].sha for p in wanted])
        except CatFileError as exc:
            self.close()
            raise GitError(f"{exc} in {self.path}") from None
        result.update(zip(wanted, contents, strict=True))
        return result

    def read_blob(self, sha: str) -> bytes:
        try:
            return self.objects().contents([sha])[0]
        except CatFileError as exc:
            self.close()
            raise GitError(f"{exc} in {self.path}") from None

    def is_symlink(self, commit: str, path: str) -> bool:
        out = self.git("ls-tree", "-z", commit, "--", path)
        return out.startswith(b"120000 ")

    def read_file(self, commit: str, path: str, max_bytes: int | None = None) -> bytes | None:
        return self.read_files(commit, [path], max_bytes)[path]

    def commit_info(self, sha: str) -> CommitInfo:
        out = self.git("show", "-s", "--format=%H%x00%an%x00%ae%x00%aI%x00%B", sha).decode(errors="replace")
        full, author, email, date, message = out.split("\0", 4)
        return CommitInfo(full.strip(), author, email, date, message.strip())
