"""Lint one bundled OpenAPI document with a ruleset: the governance gate's engine.

Each distinct `given` path is evaluated once per document and shared by every rule that uses it; a
rule whose function fails on odd input reports `apiops-rule-crashed` instead of stopping the gate.
"""

from __future__ import annotations

import gc
from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from typing import Any

from apiops_pipelines.specs.documents import Positions
from apiops_pipelines.findings import Finding, sort_findings
from apiops_pipelines.lint.doc_index import DocumentTooLarge, escape
from apiops_pipelines.lint.jsonpath import Evaluator, Node
from apiops_pipelines.lint.jsvalues import UNDEFINED
from apiops_pipelines.lint.messages import renderer
from apiops_pipelines.lint.model import OFF, Rule, Ruleset, Then
from apiops_pipelines.lint.regexes import RegexTimeout
from apiops_pipelines.lint.registry import Context
from apiops_pipelines.lint.ruleset import BUILTIN_DIR, RulesetLoader

CRASHED = "apiops-rule-crashed"
NOTICE = "apiops-ruleset-notice"
TOO_LARGE = "apiops-document-too-large"
Target = tuple[Any, Any, Any]  # (lazy pointer, property name, value or UNDEFINED)


def load_ruleset(path: Path | None = None, root: Path | None = None) -> Ruleset:
    """A ruleset file (extended files must stay under `root`, its own folder by default); None: the built-in default."""
    if path is None:
        return _default_ruleset()
    path = Path(path)
    return RulesetLoader(root if root is not None else path.resolve().parent).load(path)


@lru_cache(maxsize=1)
def _default_ruleset() -> Ruleset:
    return RulesetLoader(BUILTIN_DIR).load(BUILTIN_DIR / "default.yaml")


def detect_formats(document: Any) -> frozenset[str]:
    if not isinstance(document, dict):
        return frozenset()
    swagger, openapi, asyncapi = (str(document.get(key, "")) for key in ("swagger", "openapi", "asyncapi"))
    if swagger.startswith("2."):
        return frozenset({"oas2"})
    if openapi.startswith("3."):
        minor = openapi[:3]
        return frozenset({"oas3", f"oas{minor}"}) if minor in ("3.0", "3.1", "3.2") else frozenset({"oas3"})
    if asyncapi[:2] in ("2.", "3."):
        return frozenset({f"asyncapi{asyncapi[0]}"})
    return frozenset()


def lint(document: dict, ruleset: Ruleset, spec_file: str = "", positions: Positions | None = None) -> list[Finding]:
    """Every finding of `ruleset` on `document`, sorted; located in `spec_file` when `positions` are given."""
    collecting = gc.isenabled()
    gc.disable()  # lint allocates many small acyclic objects; collections would rescan the whole document
    try:
        findings = _lint(document, ruleset, spec_file)
    finally:
        if collecting:
            gc.enable()
    if positions is not None:
        findings = locate(findings, positions, spec_file or None)
    return sort_findings(findings)


def _lint(document: dict, ruleset: Ruleset, spec_file: str) -> list[Finding]:
    formats = detect_formats(document)
    evaluator = Evaluator(document)
    context = Context(document, formats, evaluator, regex_timeouts=evaluator.regex_timeouts)  # one count per pattern
    scoped = [(pointer, override) for override in ruleset.overrides for pointer in override.pointers_for(spec_file)]
    findings = [Finding(NOTICE, "info", "", warning) for warning in ruleset.warnings]
    try:
        context.evaluator.index  # noqa: B018 - built once here, so a document too big to walk is one finding
    except DocumentTooLarge as exc:
        return [*findings, Finding(TOO_LARGE, "error", "", f"{exc} (or contains itself); nothing was linted",
                                   fix="split the spec into smaller APIs")]  # fmt: skip
    runnable = []
    for rule in ruleset.rules:
        levels = [(pointer, level) for pointer, override in scoped for name, level in override.severities
                  if name == rule.name]  # fmt: skip
        if not (rule.enabled or any(level is not None for _, level in levels)):
            continue
        if rule.formats is None or rule.formats & formats:
            runnable.append((rule, levels))
    keys = _descent_keys(rule for rule, _ in runnable)
    if keys:
        context.evaluator.index.prefetch(keys | {"$ref", "mapping"})
    for rule, levels in runnable:
        found = _run(rule, context)
        if not levels and rule.enabled:
            findings.extend(found)
            continue
        for finding in found:
            severity = finding.severity if finding.rule == CRASHED else _severity(rule, finding.pointer, levels)
            if severity is not None:
                findings.append(finding if severity == finding.severity else _with_severity(finding, severity))
    return findings


def _descent_keys(rules: Any) -> set[str]:
    """The mapping keys the rules' `$..` paths look for, so the document is scanned for all of them at once."""
    keys: set[str] = set()
    for rule in rules:
        for path in rule.given:
            if path.steps and path.steps[0].descendant:
                selector = path.steps[0].selector
                keys.update(selector.names)
                if selector.filter is not None and selector.filter.need_keys:
                    keys.update(selector.filter.need_keys)
    return keys


def _severity(rule: Rule, pointer: str, levels: list[tuple[str, str | None]]) -> str | None:
    """The rule's severity at `pointer` after the overrides for this file, later ones winning; None: off."""
    severity: str | None = rule.severity if rule.enabled else None
    for prefix, level in levels:
        if not prefix or pointer == prefix or pointer.startswith(prefix + "/"):
            severity = rule.severity if level == "on" else level
    return None if severity == OFF else severity


def _with_severity(finding: Finding, severity: str) -> Finding:
    return replace(finding, severity=severity)  # type: ignore[arg-type]


def _run(rule: Rule, context: Context) -> list[Finding]:
    found: dict[tuple[str, str], Finding] = {}  # a node reached by two givens is reported once
    node: Node = ("", None, None)
    fix = rule.fix or rule.description or None
    render = renderer(rule.message or "{{error}}", rule.description)
    severity: Any = rule.severity
    try:
        for given in rule.given:
            nodes = context.evaluator.select(given)
            for then in rule.then:
                run, options, accepts_undefined = then.function.run, then.options, then.function.accepts_undefined
                plain = then.field is not None and then.field_path is None and then.field != "@key"
                for node in nodes:
                    if then.field is None:
                        targets: list[Target] = [node]
                    elif plain and type(node[2]) is dict and then.field in node[2]:
                        targets = [((node[0], then.field), then.field, node[2][then.field])]
                    else:
                        targets = _targets(node, then, context)
                    for pointer, name, target in targets:
                        if target is UNDEFINED and not accepts_undefined:
                            continue
                        context.property_name = name
                        for error, path in run(target, options, context):
                            where = context.evaluator.pointer(pointer)
                            if path:
                                where += "".join(f"/{escape(str(p))}" for p in path)
                            message = render(error, where, path[-1] if path else name, target, path)
                            if (where, message) not in found:
                                found[(where, message)] = Finding(rule.name, severity, where, message, fix)
    except RegexTimeout as exc:  # a filter's backtracking pattern: the rule selected nothing, so no verdict at all
        where = exc.pointer if exc.pointer is not None else context.evaluator.pointer(node[0])
        found[(where, str(exc))] = Finding(rule.name, "error", where, str(exc),
                                           fix="simplify the pattern: without lookarounds and backreferences it "
                                               "runs in linear time")  # fmt: skip
    except Exception as exc:  # noqa: BLE001 - one rule must not stop the gate; the finding names it
        detail = f"{type(exc).__name__}: {exc}"[:300]
        where = context.evaluator.pointer(node[0])
        found[(where, CRASHED)] = Finding(
            CRASHED, "error", where, f"rule {rule.name} failed on this document ({detail})",
            fix=f"turn the rule off (rules: {{{rule.name}: off}}) and report the input that breaks it",
        )  # fmt: skip
    return list(found.values())


def _targets(node: Node, then: Then, context: Context) -> list[Target]:
    """What `then.field` selects in a matched node: itself, a field (maybe missing), its keys, or a path."""
    pointer, key, value = node
    field = then.field
    if field is None:
        return [(pointer, key, value)]
    if field == "@key":
        return [((pointer, k), k, k) for k in value] if type(value) is dict else []
    if then.field_path is not None:
        base, below = context.evaluator.pointer(pointer), Evaluator(value)
        return [(base + below.pointer(p), name, found) for p, name, found in below.select(then.field_path)]
    if type(value) is dict and field in value:
        return [((pointer, field), field, value[field])]
    for part in field.split(".") if "." in field else [field]:
        if type(value) is dict and part in value:
            pointer, value = (pointer, part), value[part]
        elif type(value) is list and part.isdigit() and int(part) < len(value):
            pointer, value = (pointer, int(part)), value[int(part)]
        else:
            return [(pointer, field.rsplit(".", 1)[-1], UNDEFINED)]  # reported at the closest existing node
    return [(pointer, field.rsplit(".", 1)[-1], value)]


def locate(findings: list[Finding], positions: Positions, file: str | None) -> list[Finding]:
    """Findings with the line and column of their pointer (or of its closest ancestor) in `file`."""
    located = []
    for finding in findings:
        pointer = finding.pointer
        while pointer and pointer not in positions:
            pointer = pointer.rsplit("/", 1)[0]
        line, column = positions.get(pointer, (None, None))
        located.append(finding.located(file, line, column) if line is not None else finding)
    return located
