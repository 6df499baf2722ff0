"""JavaScript values as filter expressions see them: `undefined`, truthiness, equality, member access, methods.

Rulesets are written against JavaScript semantics (Spectral evaluates filters in JavaScript), so the
filters here keep them: `undefined` differs from `null`, empty objects and arrays are truthy, `===` never
converts types, and a method called on the wrong type selects nothing instead of raising.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from apiops_pipelines.lint.regexes import JsRegex, js_regex

UNDEFINED: Any = type("Undefined", (), {"__repr__": lambda self: "undefined", "__bool__": lambda self: False})()


def member(obj: Any, key: Any) -> Any:
    kind = type(obj)
    if kind is dict:
        return obj.get(key if type(key) is str else str(key), UNDEFINED)
    if kind is list or kind is str:
        if key == "length":
            return len(obj)
        index = key if type(key) is int else int(key) if type(key) is str and key.isdigit() else -1
        return obj[index] if 0 <= index < len(obj) else UNDEFINED
    return UNDEFINED


def truthy(value: Any) -> bool:
    """JavaScript truthiness: objects and arrays are true even when empty; NaN, 0, '' are false."""
    if value is None or value is UNDEFINED or value is False:
        return False
    kind = type(value)
    if kind is str:
        return value != ""
    if kind is int or kind is float:
        return value != 0 and not math.isnan(value)
    return True


def strict_equal(left: Any, right: Any) -> bool:
    if left is UNDEFINED or right is UNDEFINED:
        return left is right
    numbers = (int, float)
    if type(left) is bool or type(right) is bool:
        return type(left) is type(right) and left == right
    if type(left) in numbers and type(right) in numbers or type(left) is str and type(right) is str:
        return left == right
    return left is right  # null === null; objects compare by identity, as in JavaScript


def _loose_equal(left: Any, right: Any) -> bool:
    nullish = (None, UNDEFINED)
    return strict_equal(left, right) or (left in nullish and right in nullish)


def _order(op: str) -> Callable[[Any, Any], bool]:
    compare = {
        "<": lambda a, b: a < b, "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b,
    }[op]  # fmt: skip

    def ordered(left: Any, right: Any) -> bool:
        numbers = type(left) in (int, float) and type(right) in (int, float)
        return (numbers or type(left) is str and type(right) is str) and compare(left, right)

    return ordered


COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "===": strict_equal, "==": _loose_equal,
    "!==": lambda a, b: not strict_equal(a, b), "!=": lambda a, b: not _loose_equal(a, b),
    **{op: _order(op) for op in ("<", "<=", ">", ">=")},
}  # fmt: skip


def typeof(value: Any) -> str:
    if value is UNDEFINED:
        return "undefined"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    return "string" if isinstance(value, str) else "object"


def call(target: Any, method: str, args: list[Any]) -> Any:
    first = args[0] if args else UNDEFINED
    if method == "test":
        if isinstance(target, JsRegex):  # may raise RegexTimeout: the evaluator says at which node
            text = first if isinstance(first, str) else typeof(first) if first is UNDEFINED else str(first)
            return target.search(text)
        return UNDEFINED
    if method == "includes" and type(target) is list:
        return any(strict_equal(item, first) for item in target)
    if method == "indexOf" and type(target) is list:
        return next((i for i, item in enumerate(target) if strict_equal(item, first)), -1)
    if type(target) is not str:
        return UNDEFINED  # JavaScript would throw; a filter that throws selects nothing
    if method == "match":
        pattern = first if isinstance(first, JsRegex) else js_regex(first) if isinstance(first, str) else None
        return pattern is not None and pattern.search(target) or None
    if method in ("toLowerCase", "toUpperCase"):
        return target.lower() if method == "toLowerCase" else target.upper()
    if not isinstance(first, str):
        return UNDEFINED
    if method == "indexOf":
        return target.find(first)
    methods = {"startsWith": target.startswith, "endsWith": target.endswith, "includes": target.__contains__}
    return methods[method](first)
