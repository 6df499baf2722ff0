"""The API catalog: every `apiops.yaml` of the repository at one commit, read from Git objects.

Each broken file yields one clear error (file, line, key, fix) and the other APIs of the commit proceed.
"""

from __future__ import annotations

import difflib
import posixpath
import re
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from apiops_pipelines.estate.api_config import ALLOWED_KEYS, API_NAME, ApiConfig
from apiops_pipelines.specs.documents import DocumentError, Limits, Positions, load_document
from apiops_pipelines.estate.git import GitRepo

CONFIG_NAME = "apiops.yaml"
CONFIG_LIMITS = Limits(max_bytes=256 * 1024, max_depth=32, max_nodes=50_000)
_NAME_LINE = re.compile(rb"^name:\s*[\"']?([a-z0-9-]+)[\"']?\s*(?:#.*)?$", re.MULTILINE)

# Paths inside apiops.yaml: the key, and whether it names a file (blob) or a folder (tree).
PATH_KEYS: dict[str, str] = {
    "spec": "blob",
    "service.cwd": "tree",
    "contracts.pacts": "tree",
    "load.locustfile": "blob",
    "governance.ruleset": "blob",
}


@dataclass(frozen=True)
class CatalogError:
    file: str
    message: str
    line: int | None = None
    key: str | None = None
    fix: str | None = None
    api: str | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        what = f"{where}: {self.key}: {self.message}" if self.key else f"{where}: {self.message}"
        return f"{what}. Fix: {self.fix}" if self.fix else what


@dataclass(frozen=True)
class ApiDefinition:
    """One API of the catalog, with its paths resolved to repository-relative form."""

    config: ApiConfig
    config_path: str
    paths: dict[str, str]  # PATH_KEYS key -> repository-relative path
    lines: dict[str, int | None] = field(default_factory=dict, compare=False)  # PATH_KEYS key -> line

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def folder(self) -> str:
        return posixpath.dirname(self.config_path)

    @property
    def spec_path(self) -> str:
        return self.paths["spec"]


@dataclass
class Catalog:
    commit: str
    apis: dict[str, ApiDefinition] = field(default_factory=dict)
    errors: list[CatalogError] = field(default_factory=list)

    def errors_for(self, name: str) -> list[CatalogError]:
        return [e for e in self.errors if e.api == name]


def is_config_path(path: str) -> bool:
    return path == CONFIG_NAME or path.endswith("/" + CONFIG_NAME)


def guess_name(text: bytes) -> str | None:
    """The API name of a file too broken to parse, so its error still reaches that API's run."""
    match = _NAME_LINE.search(text)
    return match.group(1).decode() if match else None


def resolve_path(folder: str, relative: str) -> str | None:
    """`relative` (as written in apiops.yaml in `folder`) as a repository path; None if it leaves the repo."""
    if not relative or relative.startswith("/") or "\\" in relative or ":" in relative.split("/")[0]:
        return None
    joined = posixpath.normpath(posixpath.join(folder, relative))
    if joined == ".":
        return ""
    if joined == ".." or joined.startswith("../"):
        return None
    return joined


def _key_of(loc: tuple[Any, ...]) -> tuple[str, str]:
    """Pydantic's error location as a dotted key and as a JSON pointer."""
    parts = [str(p) for p in loc if not (isinstance(p, str) and "[" in p)]  # drop pydantic's `[key]` labels
    key = ".".join(parts).replace(".[", "[")
    return key, "/" + "/".join(parts) if parts else ""


def _line_of(positions: Positions, pointer: str) -> int | None:
    while True:
        if pointer in positions:
            return positions[pointer][0]
        if not pointer:
            return None
        pointer = pointer.rsplit("/", 1)[0]


def _validation_errors(
    exc: ValidationError, config_path: str, positions: Positions, api: str | None
) -> list[CatalogError]:
    errors = []
    for item in exc.errors():
        key, pointer = _key_of(item["loc"])
        line = _line_of(positions, pointer)
        fix = None
        if item["type"] == "extra_forbidden":
            section, _, unknown = key.rpartition(".")
            allowed = ALLOWED_KEYS.get(section, [])
            close = difflib.get_close_matches(unknown, allowed, n=1)
            message = f"unknown key '{unknown}'" + (f" (did you mean '{close[0]}'?)" if close else "")
            fix = f"use one of: {', '.join(allowed)}" if allowed else "remove it"
        elif item["type"] == "missing":
            section, _, missing = key.rpartition(".")
            message = f"required key '{missing}' is missing"
            line = _line_of(positions, pointer.rsplit("/", 1)[0]) if section else 1
            fix = f"add '{missing}:'"
        else:
            message = item["msg"].removeprefix("Value error, ")
            value = item.get("input")
            if item["type"].endswith("_type") and not isinstance(value, (dict, list)):
                message += f" (got {value!r})"
        errors.append(CatalogError(config_path, message, line=line, key=key or None, fix=fix, api=api))
    return errors


def parse_config(text: bytes, config_path: str) -> tuple[ApiDefinition | None, list[CatalogError]]:
    """Parse and validate one apiops.yaml; resolve its paths (existence is checked by `load_catalog`)."""
    positions: Positions = {}
    try:
        document = load_document(text, config_path, CONFIG_LIMITS, positions)
    except DocumentError as exc:
        error = CatalogError(config_path, exc.message, line=exc.line, fix=exc.fix, api=guess_name(text))
        return None, [error]
    if not isinstance(document, dict):
        return None, [CatalogError(config_path, "must be a mapping of keys (name, spec, ...)", line=1,
                                   fix="start with 'name: my-api' and 'spec: openapi.yaml'")]  # fmt: skip
    name = document.get("name") if isinstance(document.get("name"), str) else None
    try:
        config = ApiConfig.model_validate(document)
    except ValidationError as exc:
        valid_name = name if name and API_NAME.match(name) else None
        return None, _validation_errors(exc, config_path, positions, valid_name)
    folder = posixpath.dirname(config_path)
    paths, errors = {}, []
    for key in PATH_KEYS:
        section, _, attribute = key.rpartition(".")
        holder = getattr(config, section) if section else config
        written = getattr(holder, attribute, None) if holder is not None else None
        if written is None:
            continue
        resolved = resolve_path(folder, written)
        if resolved is None:
            line = _line_of(positions, "/" + key.replace(".", "/"))
            errors.append(CatalogError(
                config_path, f"path {written!r} leaves the repository", line=line, key=key, api=config.name,
                fix="use a path relative to this apiops.yaml that stays inside the repository",
            ))  # fmt: skip
            continue
        paths[key] = resolved
    if errors:
        return None, errors
    lines = {key: _line_of(positions, "/" + key.replace(".", "/")) for key in paths}
    return ApiDefinition(config, config_path, paths, lines), []


def load_catalog(repo: GitRepo, commit: str, config_paths: list[str] | None = None) -> Catalog:
    """Every API of `commit` (or only those of `config_paths`), with one error per broken definition."""
    if config_paths is None:
        config_paths = [p for p in repo.list_files(commit) if is_config_path(p)]
    catalog = Catalog(commit)
    texts = repo.read_files(commit, config_paths, max_bytes=CONFIG_LIMITS.max_bytes)
    definitions: list[ApiDefinition] = []
    for path in config_paths:
        text = texts[path]
        if text is None:
            catalog.errors.append(CatalogError(path, f"larger than {CONFIG_LIMITS.max_bytes:,} bytes",
                                               fix="keep apiops.yaml small; it only points at other files"))  # fmt: skip
            continue
        definition, errors = parse_config(text, path)
        catalog.errors.extend(errors)
        if definition is not None:
            definitions.append(definition)
    definitions = _check_paths_exist(repo, commit, definitions, catalog.errors)
    by_name: dict[str, list[ApiDefinition]] = {}
    for definition in definitions:
        by_name.setdefault(definition.name, []).append(definition)
    for name, same in sorted(by_name.items()):
        if len(same) == 1:
            catalog.apis[name] = same[0]
            continue
        files = ", ".join(d.config_path for d in same)
        for definition in same:
            catalog.errors.append(CatalogError(
                definition.config_path, f"API name '{name}' is also used by {files}", line=1, key="name",
                api=name, fix="give every API a unique name",
            ))  # fmt: skip
    return catalog


class DefinitionUnavailable(LookupError):
    """The API has no usable apiops.yaml at a commit; the message is the catalog's reason (file, line, key, fix)."""


def definition_at(repo: GitRepo, commit: str, api: str) -> ApiDefinition:
    """The API's definition at `commit`. Raises `DefinitionUnavailable` naming why not: the catalog's errors
    for the API (a broken apiops.yaml), else that no apiops.yaml there names it."""
    catalog = load_catalog(repo, commit)
    definition = catalog.apis.get(api)
    if definition is not None:
        return definition
    errors = catalog.errors_for(api)
    raise DefinitionUnavailable("; ".join(str(e) for e in errors) if errors
                                else f"no apiops.yaml with 'name: {api}' at {commit[:12]}")  # fmt: skip


def _check_paths_exist(
    repo: GitRepo, commit: str, definitions: list[ApiDefinition], errors: list[CatalogError]
) -> list[ApiDefinition]:
    wanted = sorted({p for d in definitions for p in d.paths.values() if p})
    found = repo.entries(commit, wanted)
    found[""] = None  # the repository root is always a folder
    kept = []
    for definition in definitions:
        problems = []
        for key, path in definition.paths.items():
            kind = PATH_KEYS[key]
            entry = found.get(path)
            actual = "tree" if path == "" else (entry.kind if entry else None)
            if actual == kind:
                continue
            noun = "file" if kind == "blob" else "folder"
            what = "does not exist" if actual is None else f"is a {'folder' if actual == 'tree' else 'file'}"
            problems.append(CatalogError(
                definition.config_path, f"{noun} '{path}' {what} at this commit", key=key, api=definition.name,
                line=definition.lines.get(key),
                fix=f"commit the {noun}, or correct the path (relative to {definition.config_path})",
            ))  # fmt: skip
        errors.extend(problems)
        if not problems:
            kept.append(definition)
    return kept

