"""One rule definition of a ruleset file turned into a `Rule`; every mistake located in that file."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

from apiops_pipelines.specs.documents import Positions
from apiops_pipelines.lint.doc_index import escape
from apiops_pipelines.lint.errors import RulesetError
from apiops_pipelines.lint.jsonpath import JSONPath, compile_path
from apiops_pipelines.lint.model import FORMATS, OFF, Rule, Then
from apiops_pipelines.lint.function_catalog import known_names, lookup

SEVERITIES = {"error": "error", "warn": "warning", "warning": "warning", "info": "info", "hint": "hint",
              0: "error", 1: "warning", 2: "info", 3: "hint", "off": OFF, -1: OFF}  # fmt: skip
SEVERITY_HELP = "use error, warn, info, hint or off (or 0, 1, 2, 3, -1)"
RULE_KEYS = ("description", "message", "severity", "given", "then", "formats", "recommended", "resolved",
             "documentationUrl", "type", "tags")  # fmt: skip
THEN_KEYS = ("field", "function", "functionOptions")
_FORMAT_SPELLINGS = {"oas3_0": "oas3.0", "oas3_1": "oas3.1", "oas3_2": "oas3.2"}
_ALIAS = re.compile(r"#([A-Za-z][A-Za-z0-9_-]*)(.*)\Z", re.DOTALL)


@dataclass
class RulesetFile:
    """A ruleset file being read: its name for messages and where each of its nodes is."""

    source: str
    positions: Positions

    def place(self, pointer: str) -> tuple[int | None, int | None]:
        while pointer and pointer not in self.positions:
            pointer = pointer.rsplit("/", 1)[0]
        return self.positions.get(pointer, (None, None))

    def line(self, pointer: str) -> int:
        return self.place(pointer)[0] or 1

    def error(self, pointer: str, message: str, fix: str | None = None) -> RulesetError:
        line, column = self.place(pointer)
        return RulesetError(self.source, message, line=line, column=column, fix=fix)


def severity_of(file: RulesetFile, pointer: str, value: Any, *, toggle: bool) -> str:
    """error|warning|info|hint|off, or "on" for `true` where a rule is only switched (toggle)."""
    if toggle and isinstance(value, bool):
        return "on" if value else OFF
    key = value.lower() if isinstance(value, str) else value
    if not isinstance(key, (str, int)) or isinstance(key, bool) or key not in SEVERITIES:
        allowed = SEVERITY_HELP + (", or true/false" if toggle else "")
        raise file.error(pointer, f"unknown severity {value!r}", fix=allowed)
    return SEVERITIES[key]


def formats_of(file: RulesetFile, pointer: str, value: Any) -> frozenset[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise file.error(pointer, "formats must be a list of format names", fix="write formats: [oas3]")
    names = [_FORMAT_SPELLINGS.get(v, v) for v in value]
    unknown = [v for v in names if v not in FORMATS]
    if unknown:
        raise file.error(pointer, f"unknown format '{unknown[0]}'", fix=f"use one of {', '.join(sorted(FORMATS))}")
    return frozenset(names)


def expand_alias(file: RulesetFile, pointer: str, given: str, aliases: dict[str, tuple[str, ...]]) -> list[str]:
    """`#Operation.responses` -> every path of the alias with `.responses` appended (aliases may nest)."""
    pending, done = [given], []
    for _ in range(1000):
        if not pending:
            return done
        path = pending.pop(0)
        match = _ALIAS.match(path)
        if not match:
            done.append(path)
            continue
        name, rest = match.groups()
        if name not in aliases:
            known = ", ".join(sorted(aliases)) or "none defined"
            raise file.error(pointer, f"unknown alias #{name}", fix=f"define it under aliases, or use one of: {known}")
        pending.extend(target + rest for target in aliases[name])
    raise file.error(pointer, f"alias {given} refers to itself", fix="make the aliases form no cycle")


def _path(file: RulesetFile, pointer: str, expression: Any) -> JSONPath:
    if not isinstance(expression, str):
        raise file.error(pointer, "a path must be a string", fix="quote the JSONPath, like '$.paths[*]'")
    try:
        return compile_path(expression)
    except RulesetError as exc:
        raise file.error(pointer, exc.message, exc.fix) from None


def _then(file: RulesetFile, pointer: str, entry: Any) -> Then:
    if not isinstance(entry, dict):
        raise file.error(pointer, "'then' must be a mapping (or a list of them) with a function",
                         fix="write then: {field: description, function: truthy}")  # fmt: skip
    for key in entry:
        if key not in THEN_KEYS:
            raise file.error(f"{pointer}/{escape(key)}", f"unknown key '{key}' in 'then'",
                             fix=f"use {', '.join(THEN_KEYS)}")  # fmt: skip
    name = entry.get("function")
    function = lookup(name) if isinstance(name, str) else None
    if function is None:
        names = ", ".join(known_names())
        raise file.error(f"{pointer}/function", f"unknown function {name!r}",
                         fix=f"use one of {names} (custom JavaScript functions are not supported)")  # fmt: skip
    try:
        options = function.prepare(entry.get("functionOptions"))
    except ValueError as exc:
        where = f"{pointer}/functionOptions" if "functionOptions" in entry else pointer
        raise file.error(where, f"function {name}: {exc}", fix="correct functionOptions") from None
    field = entry.get("field")
    if field is not None and not isinstance(field, str):
        raise file.error(f"{pointer}/field", "'field' must be a string", fix="write field: description")
    field_path = _path(file, f"{pointer}/field", field) if field and field.startswith("$") else None
    return Then(function, options, field, field_path)


def _as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def compile_rule(file: RulesetFile, name: str, body: dict, aliases: dict[str, tuple[str, ...]],
                 inherited: Rule | None, file_formats: frozenset[str] | None) -> Rule:  # fmt: skip
    """A new rule (with given and then), or changes to an inherited one (without them)."""
    pointer = f"/rules/{escape(name)}"
    for key in body:
        if key not in RULE_KEYS and not key.startswith("x-"):
            raise file.error(f"{pointer}/{escape(key)}", f"unknown key '{key}' in rule {name}",
                             fix=f"use {', '.join(RULE_KEYS)} or an x- extension")  # fmt: skip
    for key in ("description", "message", "documentationUrl", "x-apiops-fix"):
        if key in body and not isinstance(body[key], str):
            raise file.error(f"{pointer}/{key}", f"'{key}' of rule {name} must be a string", fix="quote it")
    if "recommended" in body and not isinstance(body["recommended"], bool):
        raise file.error(f"{pointer}/recommended", "'recommended' must be true or false",
                         fix="write recommended: false")  # fmt: skip
    defines = "given" in body or "then" in body
    if defines and not ("given" in body and "then" in body):
        missing = "then" if "given" in body else "given"
        raise file.error(pointer, f"rule {name} has no '{missing}'", fix="a rule needs both given and then")
    if not defines and inherited is None:
        raise file.error(pointer, f"rule {name} has no given/then and no extended ruleset defines it",
                         fix="add given and then, or correct the rule name")  # fmt: skip
    severity = severity_of(file, f"{pointer}/severity", body.get("severity", "warn"), toggle=False)
    recommended = body.get("recommended", inherited.recommended if inherited and not defines else True)
    changes: dict[str, Any] = {"source": f"{file.source}:{file.line(pointer)}", "recommended": recommended}
    if defines or "severity" in body:
        fallback = inherited.severity if inherited and not defines else "warning"
        changes["severity"] = fallback if severity == OFF else severity
        # a definition starts on only if recommended; setting a severity on an inherited rule switches it on
        changes["enabled"] = severity != OFF and (recommended or not defines)
    for key, attribute in (("description", "description"), ("message", "message"),
                           ("documentationUrl", "documentation_url"), ("x-apiops-fix", "fix")):  # fmt: skip
        if key in body:
            changes[attribute] = body[key]
    if "formats" in body:
        changes["formats"] = formats_of(file, f"{pointer}/formats", body["formats"])
    if not defines:
        return replace(inherited, **changes)  # type: ignore[arg-type]
    givens: list[tuple[str, str]] = []
    for number, raw in enumerate(_as_list(body["given"])):
        where = f"{pointer}/given" + (f"/{number}" if isinstance(body["given"], list) else "")
        if not isinstance(raw, str):
            raise file.error(where, "a path must be a string", fix="quote the JSONPath, like '$.paths[*]'")
        givens.extend((where, path) for path in expand_alias(file, where, raw, aliases))
    if not givens:
        raise file.error(f"{pointer}/given", f"rule {name} has an empty 'given'", fix="give at least one JSONPath")
    given = tuple({path: _path(file, where, path) for where, path in givens}.values())
    thens = _as_list(body["then"])
    if not thens:
        raise file.error(f"{pointer}/then", f"rule {name} has an empty 'then'", fix="give at least one function")
    single = not isinstance(body["then"], list)
    then = tuple(_then(file, f"{pointer}/then" + ("" if single else f"/{i}"), t) for i, t in enumerate(thens))
    changes.setdefault("formats", file_formats)
    return Rule(name=name, given=given, then=then, **changes)
