"""A loaded ruleset: compiled rules (paths parsed, function options checked) and file-scoped overrides."""

from __future__ import annotations

import fnmatch
import posixpath
from dataclasses import dataclass
from typing import Any

from apiops_pipelines.lint.jsonpath import JSONPath
from apiops_pipelines.lint.registry import RuleFunction

OFF = "off"
FORMATS = frozenset({
    "oas2", "oas3", "oas3.0", "oas3.1", "oas3.2", "asyncapi2", "asyncapi3", "arazzo1", "json-schema",
    "json-schema-loose", "json-schema-draft4", "json-schema-draft6", "json-schema-draft7", "json-schema-2019-09",
    "json-schema-2020-12",
})  # fmt: skip


@dataclass(frozen=True)
class Then:
    function: RuleFunction
    options: Any  # as prepared by the function
    field: str | None = None  # a key, a dotted path, or "@key" (the keys of the matched mapping)
    field_path: JSONPath | None = None  # `field` written as a JSONPath relative to the match


@dataclass(frozen=True)
class Rule:
    name: str
    given: tuple[JSONPath, ...]
    then: tuple[Then, ...]
    severity: str  # error | warning | info | hint: what it reports when enabled
    enabled: bool
    description: str = ""
    message: str = ""
    formats: frozenset[str] | None = None  # None: every document
    recommended: bool = True
    fix: str | None = None  # x-apiops-fix; the description stands in when absent
    source: str = ""  # file:line of the definition
    documentation_url: str | None = None


@dataclass(frozen=True)
class Override:
    """Severities for findings in files matching `files` (`glob` or `glob#/json/pointer`)."""

    files: tuple[tuple[str, str], ...]  # (glob, pointer prefix; "" for the whole file)
    severities: tuple[tuple[str, str | None], ...]  # (rule, severity; None = off; "on" = the rule's own)
    source: str = ""

    def pointers_for(self, spec_file: str) -> list[str]:
        """The pointer prefixes this override covers in `spec_file` (empty: it does not apply)."""
        return [pointer for glob, pointer in self.files if file_matches(glob, spec_file)]


def file_matches(glob: str, spec_file: str) -> bool:
    if not spec_file:
        return False
    name = posixpath.normpath(spec_file.replace("\\", "/"))
    pattern = glob[2:] if glob.startswith("./") else glob
    if fnmatch.fnmatchcase(name, pattern) or fnmatch.fnmatchcase(name, "*/" + pattern.removeprefix("**/")):
        return True
    return "/" not in pattern and fnmatch.fnmatchcase(posixpath.basename(name), pattern)


@dataclass(frozen=True)
class Ruleset:
    rules: tuple[Rule, ...]
    overrides: tuple[Override, ...] = ()
    source: str = ""
    warnings: tuple[str, ...] = ()  # things the ruleset asked for that are not applied (e.g. spectral:asyncapi)

    def rule(self, name: str) -> Rule | None:
        return next((rule for rule in self.rules if rule.name == name), None)

    @property
    def enabled(self) -> tuple[Rule, ...]:
        return tuple(rule for rule in self.rules if rule.enabled)
