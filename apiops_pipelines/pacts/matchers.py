"""Pact matching rules: V2's flat form and V3/V4's grouped form as one model, and which rule governs a value.

V2 writes `"$.body.items[*].id": {"match": "type"}` and `"$.headers.Location": {"regex": "..."}`;
V3 and V4 write `{"body": {"$.items[*].id": {"combine": "AND", "matchers": [{"match": "type"}]}}}`.
Both become `{"body": {"$.items[*].id": ({"match": "type"},)}}` with one canonical JSONPath spelling.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from apiops_pipelines.pacts.shapes import Matcher, Rules

Token = str | int  # a property name, an array index, or "*" (any key or index)
_STEP = re.compile(r"""\.(\*|[^.\[\]'"]+)|\[(\*|-?\d+)\]|\['((?:[^'\\]|\\.)*)'\]|\["((?:[^"\\]|\\.)*)"\]""")
_PLAIN_NAME = re.compile(r"[A-Za-z0-9_$@-]+")
_CATEGORIES = {"body": "body", "header": "header", "headers": "header", "query": "query", "path": "path",
               "status": "status"}  # fmt: skip


class RulesError(ValueError):
    """Matching rules in a shape no pact library writes; `where` names the offending entry."""

    def __init__(self, where: str, message: str) -> None:
        self.where, self.message = where, message
        super().__init__(f"{where}: {message}")


@lru_cache(maxsize=4096)
def path_tokens(expression: str) -> tuple[Token, ...] | None:
    """`$.items[*].id` -> ("items", "*", "id"); None if it is no JSONPath a pact library writes."""
    text = expression.strip()
    if not text.startswith("$"):
        text = "$." + text  # some libraries omit the root
    tokens: list[Token] = []
    position = 1
    while position < len(text):
        step = _STEP.match(text, position)
        if step is None:
            return None
        name, index, single, double = step.groups()
        if index is not None:
            tokens.append("*" if index == "*" else int(index))
        else:
            tokens.append(name if name is not None else (single if single is not None else double))
        position = step.end()
    return tuple(tokens)


def canonical(tokens: tuple[Token, ...]) -> str:
    parts = ["$"]
    for token in tokens:
        if isinstance(token, int) or token == "*":
            parts.append(f"[{token}]")
        elif _PLAIN_NAME.fullmatch(token):
            parts.append(f".{token}")
        else:
            parts.append("['" + token.replace("\\", "\\\\").replace("'", "\\'") + "']")
    return "".join(parts)


def _matcher(raw: Any, where: str) -> Matcher:
    if not isinstance(raw, dict):
        raise RulesError(where, "a matcher must be an object like {\"match\": \"type\"}")
    matcher = dict(raw)
    if "match" not in matcher:  # V2 spells a regex rule without `match`, and a bare min/max as type
        matcher["match"] = "regex" if "regex" in matcher else "type"
    if not isinstance(matcher["match"], str):
        raise RulesError(where, "`match` must name the matcher (type, regex, integer, ...)")
    return matcher


def _matchers(raw: Any, where: str) -> tuple[Matcher, ...]:
    if isinstance(raw, dict) and "matchers" in raw:
        if not isinstance(raw["matchers"], list):
            raise RulesError(where, "`matchers` must be a list")
        return tuple(_matcher(m, f"{where}.matchers[{i}]") for i, m in enumerate(raw["matchers"]))
    if isinstance(raw, list):
        return tuple(_matcher(m, f"{where}[{i}]") for i, m in enumerate(raw))
    return (_matcher(raw, where),)


def _body_key(expression: str, where: str) -> str:
    tokens = path_tokens(expression)
    if tokens is None:
        raise RulesError(where, f"'{expression}' is not a JSONPath like $.items[*].id")
    return canonical(tokens)


def normalize_rules(raw: Any, version: int, where: str) -> Rules:
    """The matching rules of a request or response, in the one shape every check reads."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise RulesError(where, "must be an object")
    rules: Rules = {}
    if version <= 2 and all(isinstance(k, str) and k.startswith("$") for k in raw):
        for expression, matcher in raw.items():
            tokens = path_tokens(expression)
            if not tokens or not isinstance(tokens[0], str) or tokens[0] not in _CATEGORIES:
                raise RulesError(where, f"'{expression}' should start with $.body, $.headers, $.query or $.path")
            category = _CATEGORIES[tokens[0]]
            key = canonical(tokens[1:]) if category == "body" else (str(tokens[1]) if len(tokens) > 1 else "")
            rules.setdefault(category, {})[key] = _matchers(matcher, f"{where}['{expression}']")
        return rules
    for name, group in raw.items():
        category = _CATEGORIES.get(name)
        if category is None:
            continue  # V4 adds categories (metadata, content) that no spec check reads
        here = f"{where}.{name}"
        if category in ("path", "status") and isinstance(group, dict) and "matchers" in group:
            rules[category] = {"": _matchers(group, here)}
            continue
        if not isinstance(group, dict):
            raise RulesError(here, "must be an object of path or name to matchers")
        entries = rules.setdefault(category, {})
        for key, matchers in group.items():
            canonical_key = _body_key(key, f"{here}['{key}']") if category == "body" else key
            entries[canonical_key] = _matchers(matchers, f"{here}['{key}']")
    return rules


def governing(rules: dict[str, tuple[Matcher, ...]], path: tuple[Token, ...]) -> tuple[int, tuple[Matcher, ...]]:
    """The matchers that apply to the value at `path`, and the depth of the rule that names them.

    Pact cascades a matcher to everything below it, so a type matcher on `$.items` also governs
    `$.items[0].title` unless a rule names that value itself (then the depth equals len(path)).
    """
    best: tuple[Matcher, ...] = ()
    best_weight: tuple[int, int] = (-1, 0)
    for expression, matchers in rules.items():
        tokens = path_tokens(expression) or ()
        if len(tokens) > len(path) or not _covers(tokens, path):
            continue
        weight = (len(tokens), -sum(1 for t in tokens if t == "*"))
        if weight > best_weight:
            best, best_weight = matchers, weight
    return best_weight[0], best


def _covers(tokens: tuple[Token, ...], path: tuple[Token, ...]) -> bool:
    return all(t == "*" or t == p and isinstance(t, int) == isinstance(p, int) for t, p in zip(tokens, path))


def values_at(document: Any, tokens: tuple[Token, ...]) -> list[tuple[tuple[Token, ...], Any]]:
    """Every (path, value) a JSONPath with wildcards selects in an example body."""
    found: list[tuple[tuple[Token, ...], Any]] = [((), document)]
    for token in tokens:
        step: list[tuple[tuple[Token, ...], Any]] = []
        for path, value in found:
            if token == "*":
                if isinstance(value, dict):
                    step.extend(((*path, k), v) for k, v in value.items())
                elif isinstance(value, list):
                    step.extend(((*path, i), v) for i, v in enumerate(value))
            elif isinstance(token, int) and isinstance(value, list) and -len(value) <= token < len(value):
                step.append(((*path, token % len(value)), value[token]))
            elif isinstance(token, str) and isinstance(value, dict) and token in value:
                step.append(((*path, token), value[token]))
        found = step
    return found


_KIND_CHECKS: dict[str, tuple[str, Callable[[Any], bool]]] = {
    "integer": ("an integer", lambda v: isinstance(v, int) and not isinstance(v, bool)),
    "decimal": ("a decimal number", lambda v: isinstance(v, float)),
    "number": ("a number", lambda v: isinstance(v, (int, float)) and not isinstance(v, bool)),
    "boolean": ("a boolean", lambda v: isinstance(v, bool)),
    "include": ("a string", lambda v: isinstance(v, str)),
    "date": ("a date string", lambda v: isinstance(v, str)),
    "time": ("a time string", lambda v: isinstance(v, str)),
    "timestamp": ("a timestamp string", lambda v: isinstance(v, str)),
    "datetime": ("a date-time string", lambda v: isinstance(v, str)),
    "null": ("null", lambda v: v is None),
}
# Matchers under which the example stands for any value of its kind: its value constraints do not bind.
KIND_MATCHERS = frozenset({"type", *_KIND_CHECKS}) - {"null"}


def kind_problem(matcher: Matcher, example: Any) -> str | None:
    """Why the example does not fit its own matcher's kind (None when it does)."""
    kind = matcher.get("match")
    if kind not in _KIND_CHECKS:
        return None
    label, check = _KIND_CHECKS[kind]
    if not check(example):
        return f"its matcher '{kind}' expects {label}"
    if kind == "include" and str(matcher.get("value", "")) not in example:
        return f"its matcher 'include' expects it to contain {matcher.get('value')!r}"
    return None
