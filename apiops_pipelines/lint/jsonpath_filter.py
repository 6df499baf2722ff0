"""Filter expressions of JSONPath (`[?(@.type == 'object' && !@.readOnly)]`), compiled to Python functions.

The language is the JavaScript subset rulesets use: `@` (the candidate), `@property` (its key), `@parent`,
`@parentProperty`, `@root`/`$`, member access, literals, `== === != !== < <= > >= && || ! typeof`,
array literals and the string methods `match`, `test`, `startsWith`, `endsWith`, `includes`, `indexOf`
(grammar in `filter_syntax`, value semantics in `jsvalues`).

A compiled filter also says which keys a candidate *must* have to pass (`need_keys`) or which names it
must be reached by (`need_props`), so `$..[?(@.type == 'string')]` looks only at mappings with `type`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from apiops_pipelines.lint.filter_syntax import MAX_DEPTH, FilterParser, FilterSyntaxError, depth_of
from apiops_pipelines.lint.jsvalues import COMPARE, UNDEFINED, call, member, truthy, typeof
from apiops_pipelines.lint.regexes import JsRegex

__all__ = ["Filter", "FilterSyntaxError", "UNDEFINED", "parse_filter", "truthy"]

Test = Callable[[Any, Any, Any, Any, Any], Any]  # (value, property, parent, parentProperty, root) -> bool


@dataclass(frozen=True)
class Filter:
    source: str
    test: Test
    need_keys: frozenset[str] | None  # passing candidates are mappings with one of these keys
    need_props: frozenset[Any] | None  # passing candidates sit under one of these keys
    regexes: tuple[JsRegex, ...] = ()  # its regular expression literals


def parse_filter(text: str, start: int) -> tuple[Filter, int]:
    """Parse the expression starting at `text[start]` up to its closing `)`; returns it and the index after."""
    parser = FilterParser(text, start)
    node = parser.expression(0)
    parser.expect(")")
    if depth_of(node) > MAX_DEPTH:
        raise FilterSyntaxError("filter nested too deeply", start)
    try:
        test = _compile(node)
    except (SyntaxError, RecursionError, MemoryError):  # the limits above should make this unreachable
        raise FilterSyntaxError("filter too complex", start) from None
    keys, props = _need(node)
    return Filter(text[start : parser.pos - 1].strip(), test, keys, props, tuple(parser.regexes)), parser.pos


class _CodeGen:
    """Turns a parsed filter into the source of one Python lambda: no call per AST node when it runs.

    Everything taken from the ruleset enters the source as `repr()` of a string or integer, or as a
    named constant, so the generated code is only ever the fixed shapes written below.
    """

    def __init__(self) -> None:
        self.names: dict[str, Any] = {"__builtins__": {}, "type": type, "dict": dict, "U": UNDEFINED, "T": truthy,
                                      "_get": member, "_call": call, "_typeof": typeof}  # fmt: skip
        self.temps = 0

    def constant(self, value: Any) -> str:
        if type(value) is str or type(value) is int:
            return repr(value)
        name = f"_c{len(self.names)}"
        self.names[name] = value
        return name

    def temp(self) -> str:
        self.temps += 1
        return f"_t{self.temps}"

    def value(self, node: tuple) -> str:
        kind = node[0]
        if kind == "lit":
            return self.constant(node[1])
        if kind == "path":
            base, keys = {"cur": "v", "prop": "k", "parent": "p", "pprop": "pk", "root": "r"}[node[1]], node[2]
            code = base
            for number, key in enumerate(keys):
                if number == 0 and base == "v" and type(key) is str and key != "length" and not key.isdigit():
                    code = f"(v.get({key!r}, U) if type(v) is dict else U)"  # `@.type`: the hot path
                else:
                    code = f"_get({code}, {self.constant(key)})"
            return code
        if kind == "member":
            return f"_get({self.value(node[1])}, {self.constant(node[2])})"
        if kind == "array":
            return "[" + ", ".join(self.value(item) for item in node[1]) + "]"
        if kind == "not":
            return f"(not {self.test(node[1])})"
        if kind == "typeof":
            return f"_typeof({self.value(node[1])})"
        if kind == "call":
            args = ", ".join(self.value(a) for a in node[3])
            return f"_call({self.value(node[1])}, {node[2]!r}, [{args}])"
        if kind in ("and", "or"):
            temp = self.temp()
            keep = "not " if kind == "and" else ""
            return f"({temp} if {keep}T({temp} := {self.value(node[1])}) else {self.value(node[2])})"
        _, op, left, right = node
        for literal, other in ((right, left), (left, right)):
            if op in ("==", "===") and literal[0] == "lit" and type(literal[1]) is str:
                return f"({self.value(other)} == {literal[1]!r})"  # strings equal only strings: plain ==
        return f"{self.constant(COMPARE[op])}({self.value(left)}, {self.value(right)})"

    def test(self, node: tuple) -> str:
        """Source of a Python bool: the JavaScript truthiness of the node."""
        kind = node[0]
        if kind in ("and", "or"):
            return f"({self.test(node[1])} {kind} {self.test(node[2])})"
        if kind in ("not", "cmp"):
            return self.value(node)
        if kind == "path" and node[1] == "cur" and not node[2]:
            return "(type(v) is dict or T(v))"
        return f"T({self.value(node)})"


def _compile(node: tuple) -> Test:
    generator = _CodeGen()
    source = f"lambda v, k, p, pk, r: {generator.test(node)}"
    return eval(source, generator.names)  # noqa: S307 - generated from the parsed AST, see _CodeGen


# --- what a passing candidate must look like -------------------------------------------------------------


def _need(node: tuple) -> tuple[frozenset[str] | None, frozenset[Any] | None]:
    """(keys one of which a passing candidate has, properties one of which it sits under); None: no promise."""
    kind = node[0]
    if kind == "path" and node[1] == "cur" and node[2] and type(node[2][0]) is str:
        first = node[2][0]
        return (frozenset([first]) if first != "length" and not first.isdigit() else None), None
    if kind == "call":
        return _need(node[1])  # a method of undefined selects nothing
    if kind == "cmp":
        _, op, left, right = node
        if right[0] != "lit":
            left, right = right, left
        if right[0] != "lit" or op in ("!=", "!==") or right[1] is None or right[1] is UNDEFINED:
            return None, None
        if left[0] == "path" and left[1] == "prop" and not left[2] and op in ("==", "==="):
            return None, frozenset([right[1]])
        return _need(left)
    if kind == "and":
        left, right = _need(node[1]), _need(node[2])
        return left[0] if left[0] is not None else right[0], left[1] if left[1] is not None else right[1]
    if kind == "or":
        left, right = _need(node[1]), _need(node[2])
        keys = left[0] | right[0] if left[0] is not None and right[0] is not None else None
        props = left[1] | right[1] if left[1] is not None and right[1] is not None else None
        return keys, props
    return None, None
