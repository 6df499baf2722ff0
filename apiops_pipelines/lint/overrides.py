"""The `overrides` of a ruleset file: severities of rules for the spec files (and JSON pointers) a glob matches."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from apiops_pipelines.lint.doc_index import escape
from apiops_pipelines.lint.model import OFF, Override, Rule
from apiops_pipelines.lint.rule_compiler import RulesetFile, severity_of

# Spectral rules that are validation in apiops (the official JSON Schema; the spec_is_valid check): not tunable.
VALIDATION_RULES = ("oas2-schema", "oas3-schema")


def read_overrides(file: RulesetFile, value: Any, rules: dict[str, Rule],
                   validation_notice: Callable[[str, str], None]) -> list[Override]:  # fmt: skip
    if not isinstance(value, list):
        raise file.error("/overrides", "'overrides' must be a list",
                         fix="write overrides: [{files: [...], rules: {...}}]")  # fmt: skip
    found = []
    for number, entry in enumerate(value):
        pointer = f"/overrides/{number}"
        if not isinstance(entry, dict) or not isinstance(entry.get("files"), list) or not entry["files"]:
            raise file.error(pointer, "an override needs a non-empty 'files' list",
                             fix="write {files: ['openapi.yaml'], rules: {rule-name: off}}")  # fmt: skip
        for key in entry:
            if key not in ("files", "rules"):
                raise file.error(f"{pointer}/{escape(key)}", f"'{key}' in overrides is not supported",
                                 fix="overrides may set files and rule severities only")  # fmt: skip
        files = []
        for glob in entry["files"]:
            if not isinstance(glob, str):
                raise file.error(f"{pointer}/files", "files must be glob patterns", fix="write files: ['**/*.yaml']")
            pattern, _, fragment = glob.partition("#")
            files.append((pattern, fragment.rstrip("/")))
        severities = []
        levels = entry.get("rules") or {}
        if not isinstance(levels, dict):
            raise file.error(f"{pointer}/rules", "'rules' of an override must map rule names to severities",
                             fix="write rules: {rule-name: off}")  # fmt: skip
        for name, level in levels.items():
            where = f"{pointer}/rules/{escape(name)}"
            if isinstance(level, dict):
                raise file.error(where, "overrides may only change a rule's severity",
                                 fix="define the rule under the top-level rules and set its severity here")  # fmt: skip
            severity = severity_of(file, where, level, toggle=True)
            if name not in rules and name in VALIDATION_RULES:
                validation_notice(where, name)
                continue
            if name not in rules:
                raise file.error(where, f"override for unknown rule {name}", fix="correct the rule name")
            severities.append((name, None if severity == OFF else severity))
        found.append(Override(tuple(files), tuple(severities), f"{file.source}:{file.line(pointer)}"))
    return found
