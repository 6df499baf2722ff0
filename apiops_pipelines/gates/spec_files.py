"""Specs named on the command line: a file on disk (cross-file $refs bundled, nothing read outside the
repository or `--root`), or `REV:path` for a spec as committed at a Git revision (`main:apis/orders/openapi.yaml`)."""

from __future__ import annotations

from pathlib import Path

from apiops_pipelines.specs.documents import DEFAULT_LIMITS, DocumentError
from apiops_pipelines.estate.git import GitError, GitRepo, run_git
from apiops_pipelines.specs.bundle import Bundle, bundle_spec
from apiops_pipelines.specs.sources import DirectorySource, GitSource, RefPolicy


def bundle_file(spec: str, root: str | None = None, allow_remote_refs: bool = False) -> Bundle:
    path = Path(spec)
    policy = RefPolicy(allow_remote=allow_remote_refs)
    if not path.is_file():
        revision, sep, inner = spec.partition(":")
        if sep and revision and inner and not path.exists():
            return _bundle_revision(revision, inner, policy)
        raise DocumentError(spec, "no such file" if not path.exists() else "is not a file",
                            fix="give the path of an OpenAPI or Swagger file, or REV:path for a committed one")  # fmt: skip
    path = path.resolve()
    top = root_of(spec, root)
    if not path.is_relative_to(top):
        raise DocumentError(spec, f"is outside the root folder {top}", fix="pass --root with a folder that holds it")
    return bundle_spec(DirectorySource(top, DEFAULT_LIMITS), path.relative_to(top).as_posix(), policy=policy)


def _bundle_revision(revision: str, inner: str, policy: RefPolicy) -> Bundle:
    top = top_level(Path.cwd())
    repo = GitRepo(top)
    with repo:
        commit = repo.resolve(revision)
        if commit is None:
            raise GitError(f"{revision!r} is not a revision of {top} (in '{revision}:{inner}')")
        relative = inner
        if inner.startswith(("./", "../")):  # as in Git: REV:./path is relative to here, REV:path to the top
            absolute = (Path.cwd() / inner).resolve()
            if not absolute.is_relative_to(top):
                raise DocumentError(f"{revision}:{inner}", f"is outside the repository {top}")
            relative = absolute.relative_to(top).as_posix()
        return bundle_spec(GitSource(repo, commit, DEFAULT_LIMITS), relative, policy=policy)


def root_of(spec: str, root: str | None) -> Path:
    """The folder a spec file's $refs must stay in: `--root`, else the Git work tree, else its own folder."""
    return Path(root).resolve() if root else top_level(Path(spec).resolve().parent)


def top_level(folder: Path) -> Path:
    """The Git work tree holding `folder` (nothing outside it is read), or the folder itself."""
    try:
        return Path(run_git(folder, "rev-parse", "--show-toplevel").decode().strip())
    except GitError:
        return folder
