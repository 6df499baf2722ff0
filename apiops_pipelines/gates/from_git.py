"""What the gates need from an API's commit besides its spec: the governance ruleset and the consumer pacts.

Both are read from Git objects, never from a working tree, so a run checks exactly the commit it names.
"""

from __future__ import annotations

import posixpath
import tempfile
from pathlib import Path

from apiops_pipelines.estate.catalog import ApiDefinition
from apiops_pipelines.specs.documents import DEFAULT_LIMITS, DocumentError, Limits, load_document
from apiops_pipelines.estate.git import GitRepo
from apiops_pipelines.lint import Ruleset, RulesetError, load_ruleset
from apiops_pipelines.pacts import Pact, PactError, parse_pact

_RULESET_FILES = 50
_RULESET_BYTES = 2 * 1024 * 1024
_SYMLINK = b"120000"


def ruleset_at(repo: GitRepo, commit: str, definition: ApiDefinition) -> Ruleset:
    """The API's `governance.ruleset` at `commit` (with the files it extends), or the built-in default."""
    path = definition.paths.get("governance.ruleset")
    if path is None:
        return load_ruleset(None)
    with tempfile.TemporaryDirectory(prefix="apiops-ruleset-") as folder:
        root = Path(folder)
        _copy_extends_chain(repo, commit, path, root)
        return load_ruleset(root / path, root=root)


def _copy_extends_chain(repo: GitRepo, commit: str, start: str, root: Path) -> None:
    """Write the ruleset and every file it extends (relative paths inside the repository) under `root`;
    the loader then reports missing or outside files with the ruleset's own line numbers."""
    pending, seen = [start], set()
    while pending and len(seen) < _RULESET_FILES:
        path = pending.pop()
        if path in seen or path.startswith("../") or path.startswith("/"):
            continue
        seen.add(path)
        data = repo.read_file(commit, path, max_bytes=_RULESET_BYTES)
        if data is None:
            continue
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        for name in _extended_files(data, path):
            pending.append(posixpath.normpath(posixpath.join(posixpath.dirname(path), name)))


def _extended_files(data: bytes, path: str) -> list[str]:
    try:
        document = load_document(data, path, Limits(max_bytes=_RULESET_BYTES, max_depth=64, max_nodes=100_000))
    except DocumentError:
        return []  # the loader reports it, with its place
    extends = document.get("extends") if isinstance(document, dict) else None
    entries = [extends] if isinstance(extends, str) else extends if isinstance(extends, list) else []
    names = [e if isinstance(e, str) else e[0] if isinstance(e, list) and e and isinstance(e[0], str) else None
             for e in entries]  # fmt: skip
    return [n for n in names if n and "://" not in n and not n.startswith("spectral:") and ":" not in n]


def pacts_at(
    repo: GitRepo, commit: str, folder: str, limits: Limits = DEFAULT_LIMITS
) -> tuple[list[Pact], list[PactError]]:
    """Every `*.json` pact below `folder` at `commit`, sorted by path, and the ones that cannot be read."""
    blobs, errors = pact_blobs_at(repo, commit, folder, limits)
    pacts: list[Pact] = []
    for path, data in blobs.items():
        try:
            pacts.append(parse_pact(data, path, limits))
        except PactError as exc:
            errors.append(exc)
    return pacts, errors


def pact_blobs_at(
    repo: GitRepo, commit: str, folder: str, limits: Limits = DEFAULT_LIMITS
) -> tuple[dict[str, bytes], list[PactError]]:
    """The bytes of every `*.json` file below `folder` at `commit` by path (sorted), unparsed; symlinks and
    files over the size limit are errors instead."""
    listing = repo.git("ls-tree", "-r", "-z", commit, "--", folder.rstrip("/") + "/")
    errors: list[PactError] = []
    paths = []
    for record in sorted(r for r in listing.split(b"\0") if r):
        meta, _, raw_path = record.partition(b"\t")
        path = raw_path.decode(errors="surrogateescape")
        if not path.endswith(".json"):
            continue
        if meta.split(b" ")[0] == _SYMLINK:
            errors.append(PactError(path, None, "is a symbolic link; pacts are read from the commit itself",
                                    fix="commit the pact file itself, not a link to it"))  # fmt: skip
        else:
            paths.append(path)
    blobs: dict[str, bytes] = {}
    for path, entry in repo.entries(commit, paths).items():  # one object lookup for every pact
        if entry is None or entry.kind != "blob":
            continue
        if entry.size is not None and entry.size > limits.max_bytes:
            errors.append(PactError(path, None, f"is {entry.size} bytes, over the {limits.max_bytes}-byte limit",
                                    fix="split the pact, or raise the limit"))  # fmt: skip
            continue
        blobs[path] = repo.read_blob(entry.sha)
    return dict(sorted(blobs.items())), errors


__all__ = ["RulesetError", "pact_blobs_at", "pacts_at", "ruleset_at"]
