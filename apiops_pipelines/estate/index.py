"""Which files belong to which API, so a commit's changed paths map to the APIs they touch.

An API's footprint is its `apiops.yaml` folder plus every path its config names (spec, service code,
pacts, locustfile, ruleset) and every file its spec reaches through `$ref`. The footprint records the Git
object id of each of its roots: two indexes compare API by API without reading history (how a
force-push is judged). Updates are incremental: a commit costs work for the APIs it touches only.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

from apiops_pipelines.estate.catalog import CONFIG_LIMITS, guess_name, is_config_path, parse_config
from apiops_pipelines.specs.documents import DEFAULT_LIMITS
from apiops_pipelines.estate.git import Change, GitRepo
from apiops_pipelines.specs.sources import join_ref

# Over-approximates the files a spec references: a false hit only costs a spurious run, a parse doesn't.
_REF = re.compile(rb"""["']?\$ref["']?\s*:\s*["']?([^"'\s#,}]+)""")
_MAX_REF_FILES = DEFAULT_LIMITS.max_files


@dataclass
class ApiEntry:
    config_path: str
    name: str | None  # None when the file is too broken to name its API
    roots: dict[str, str | None] = field(default_factory=dict)  # folder/ or file -> Git object id
    ref_files: list[str] = field(default_factory=list)  # spec and the files it $refs

    def fingerprint(self) -> tuple:
        return tuple(sorted(self.roots.items(), key=lambda kv: kv[0]))


@dataclass
class EstateIndex:
    commit: str
    entries: dict[str, ApiEntry]  # by config path
    _owners: dict[str, set[str]] | None = field(default=None, repr=False)

    def owners(self, path: str) -> set[str]:
        """Config paths of the APIs whose footprint holds `path`."""
        if self._owners is None:
            self._owners = {}
            for entry in self.entries.values():
                for root in entry.roots:
                    self._owners.setdefault(root, set()).add(entry.config_path)
        found = set(self._owners.get(path, ()))
        found |= self._owners.get("", set())  # an API at the repository root owns everything
        parts = path.split("/")
        for i in range(1, len(parts)):
            found |= self._owners.get("/".join(parts[:i]) + "/", set())
        return found

    def to_json(self) -> str:
        return json.dumps({"commit": self.commit, "entries": [asdict(e) for e in self.entries.values()]})

    @classmethod
    def from_json(cls, text: str) -> EstateIndex:
        data = json.loads(text)
        entries = {e["config_path"]: ApiEntry(**e) for e in data["entries"]}
        return cls(data["commit"], entries)


def _folder_root(path: str) -> str:
    return path.rstrip("/") + "/" if path else ""


def describe_apis(repo: GitRepo, commit: str, config_paths: list[str], stamp: bool = True) -> dict[str, ApiEntry]:
    """Footprints of the given APIs at `commit`, with a handful of batched git calls in all."""
    texts = repo.read_files(commit, config_paths, max_bytes=CONFIG_LIMITS.max_bytes)
    entries: dict[str, ApiEntry] = {}
    pending: dict[str, list[str]] = {}  # config path -> ref files still to scan
    for path in config_paths:
        text = texts.get(path)
        if text is None:
            continue  # deleted at this commit (or too large: the catalog reports that)
        folder = path.rpartition("/")[0]
        definition, _errors = parse_config(text, path)
        entry = ApiEntry(path, definition.name if definition else guess_name(text))
        entry.roots[_folder_root(folder)] = None
        if definition is not None:
            for key, target in definition.paths.items():
                entry.roots[target if key in ("spec", "load.locustfile", "governance.ruleset") else _folder_root(target)] = None
            pending[path] = [definition.spec_path]
        entries[path] = entry
    seen: dict[str, set[str]] = {p: set() for p in pending}
    while pending:
        wanted = sorted({f for files in pending.values() for f in files})
        contents = repo.read_files(commit, wanted, max_bytes=DEFAULT_LIMITS.max_bytes)
        next_round: dict[str, list[str]] = {}
        for config_path, files in pending.items():
            entry = entries[config_path]
            for file in files:
                if file in seen[config_path] or len(seen[config_path]) >= _MAX_REF_FILES:
                    continue
                seen[config_path].add(file)
                entry.ref_files.append(file)
                entry.roots.setdefault(file, None)
                for target in _REF.findall(contents.get(file) or b""):
                    joined = join_ref(file, target.decode(errors="replace"))
                    if joined and joined not in seen[config_path]:
                        next_round.setdefault(config_path, []).append(joined)
        pending = next_round
    if stamp:
        _stamp(repo, commit, entries.values())
    return entries


def _stamp(repo: GitRepo, commit: str, entries) -> None:
    """Record the object id of every root, in one batched call."""
    entries = list(entries)
    roots = sorted({r.rstrip("/") for e in entries for r in e.roots if r})
    found = repo.entries(commit, roots)
    for entry in entries:
        for root in entry.roots:
            item = found.get(root.rstrip("/")) if root else None
            entry.roots[root] = item.sha if item else None


def build_index(repo: GitRepo, commit: str) -> EstateIndex:
    configs = [p for p in repo.list_files(commit) if is_config_path(p)]
    return EstateIndex(commit, describe_apis(repo, commit, configs))


@dataclass
class CommitEffect:
    touched: set[str]  # config paths of APIs the commit touched (present after it)
    deleted: dict[str, str | None]  # config path -> name of APIs the commit removed


def apply_commit(index: EstateIndex, repo: GitRepo, commit: str, changes: tuple[Change, ...]) -> CommitEffect:
    """Advance `index` over one commit (or a tree diff); which APIs it touched or deleted.

    Footprints are re-read only where the commit changed a config or a spec file; object ids of the
    other touched APIs go stale until `restamp` (once per tick, at its last commit).
    """
    paths = [c.path for c in changes]
    touched: set[str] = set()
    for path in paths:
        touched |= index.owners(path)
    changed = set(paths)
    refreshed = sorted(
        {p for p in paths if is_config_path(p)} | {p for p in touched if changed & set(index.entries[p].ref_files)}
    )
    fresh = describe_apis(repo, commit, refreshed, stamp=False) if refreshed else {}
    deleted = {}
    for path in refreshed:
        if path in fresh:
            index.entries[path] = fresh[path]
        elif path in index.entries:
            deleted[path] = index.entries.pop(path).name
    index.commit, index._owners = commit, None
    for path in paths:  # a file the new footprints claim (a new $ref target, a new API's files)
        touched |= index.owners(path)
    return CommitEffect({p for p in touched if p in index.entries}, deleted)


def restamp(index: EstateIndex, repo: GitRepo, config_paths: set[str]) -> None:
    _stamp(repo, index.commit, [index.entries[p] for p in config_paths if p in index.entries])


class IndexStore:
    """Indexes on disk by commit, so a tick resumes from its cursor without rebuilding."""

    def __init__(self, folder: Path, keep: int = 8) -> None:
        self.folder, self.keep = folder, keep

    def load(self, commit: str) -> EstateIndex | None:
        path = self.folder / f"{commit}.json"
        try:
            return EstateIndex.from_json(path.read_text())
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def save(self, index: EstateIndex) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        tmp = self.folder / f".{index.commit}.tmp"
        tmp.write_text(index.to_json())
        tmp.replace(self.folder / f"{index.commit}.json")
        saved = sorted(self.folder.glob("*.json"), key=lambda p: p.stat().st_mtime)
        for old in saved[: -self.keep]:
            old.unlink(missing_ok=True)
