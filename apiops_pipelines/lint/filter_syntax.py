"""The grammar of JSONPath filter expressions (`[?(...)]`): tokens and a recursive-descent parser.

Nodes are tuples: ("lit", value), ("path", base, keys), ("member", node, key), ("array", items),
("not", node), ("typeof", node), ("call", node, method, args), ("cmp", op, left, right),
("and", left, right), ("or", left, right). Nesting is bounded, so a hostile ruleset cannot exhaust the stack.
"""

from __future__ import annotations

import re
from typing import Any

from apiops_pipelines.lint.jsvalues import UNDEFINED
from apiops_pipelines.lint.regexes import JsRegex, js_regex

_TOKEN = re.compile(
    r"\s*(?:(?P<num>-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)|(?P<str>'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\")"
    r"|(?P<op>===|!==|==|!=|<=|>=|&&|\|\||[<>!()\[\],.])|(?P<at>@[A-Za-z]*)|(?P<name>[A-Za-z_$][\w$-]*)"
    r"|(?P<re>/))",
    re.DOTALL,
)
_BASES = {"@": "cur", "@property": "prop", "@parent": "parent", "@parentProperty": "pprop", "@root": "root"}
_WORDS = {"true": True, "false": False, "null": None, "undefined": UNDEFINED}
_METHODS = frozenset({"match", "test", "startsWith", "endsWith", "includes", "indexOf", "toLowerCase", "toUpperCase"})
MAX_DEPTH = 48  # nesting of the parsed expression; deeper would exhaust Python's parser on the generated code
_MAX_TOKENS = 400


class FilterSyntaxError(ValueError):
    def __init__(self, message: str, position: int) -> None:
        super().__init__(message)
        self.position = position


class FilterParser:
    def __init__(self, text: str, pos: int) -> None:
        self.text, self.pos = text, pos
        self.peeked: tuple[str, Any, int] | None = None
        self.tokens = 0
        self.regexes: list[JsRegex] = []  # the literals, so the evaluator can give up on one that keeps timing out

    def fail(self, message: str, at: int | None = None) -> FilterSyntaxError:
        return FilterSyntaxError(message, self.pos if at is None else at)

    def peek(self) -> tuple[str, Any, int]:
        if self.peeked is None:
            self.peeked = self._scan()
        return self.peeked

    def next(self) -> tuple[str, Any, int]:
        token = self.peek()
        self.peeked = None
        return token

    def expect(self, op: str) -> None:
        kind, value, at = self.next()
        if kind != "op" or value != op:
            raise self.fail(f"expected '{op}'", at)

    def accept(self, op: str) -> bool:
        kind, value, _ = self.peek()
        if kind == "op" and value == op:
            self.next()
            return True
        return False

    def _scan(self) -> tuple[str, Any, int]:
        self.tokens += 1
        if self.tokens > _MAX_TOKENS:
            raise self.fail(f"filter is longer than {_MAX_TOKENS} tokens; split the rule")
        match = _TOKEN.match(self.text, self.pos)
        if not match or match.lastgroup is None:
            at = len(self.text) if not self.text[self.pos :].strip() else self.pos
            raise self.fail("unexpected end of filter" if at == len(self.text) else "unexpected character", at)
        kind, at = match.lastgroup, match.start(match.lastgroup)
        self.pos = match.end()
        if kind == "re":
            return "lit", self._regex(at), at
        value: Any = match.group(kind)
        if kind == "num":
            return "lit", float(value) if any(c in value for c in ".eE") else int(value), at
        if kind == "str":
            return "lit", re.sub(r"\\(.)", r"\1", value[1:-1]), at
        return kind, value, at

    def _regex(self, at: int) -> JsRegex:
        text, i, in_class = self.text, at + 1, False
        while i < len(text):
            char = text[i]
            if char == "\\":
                i += 2
                continue
            if char == "/" and not in_class:
                break
            in_class = (in_class or char == "[") and char != "]"
            i += 1
        else:
            raise self.fail("unterminated regular expression", at)
        flags = re.match(r"[a-z]*", text[i + 1 :]).group(0)  # type: ignore[union-attr]
        self.pos = i + 1 + len(flags)
        try:
            regex = js_regex(text[at + 1 : i], flags)
        except ValueError as exc:
            raise self.fail(str(exc), at) from None
        self.regexes.append(regex)
        return regex

    def expression(self, depth: int) -> tuple:
        if depth > MAX_DEPTH:
            raise self.fail("filter nested too deeply")
        node = self.conjunction(depth)
        while self.accept("||"):
            node = ("or", node, self.conjunction(depth))
        return node

    def conjunction(self, depth: int) -> tuple:
        node = self.comparison(depth)
        while self.accept("&&"):
            node = ("and", node, self.comparison(depth))
        return node

    def comparison(self, depth: int) -> tuple:
        node = self.unary(depth)
        kind, value, _ = self.peek()
        if kind == "op" and value in ("===", "!==", "==", "!=", "<", "<=", ">", ">="):
            self.next()
            node = ("cmp", value, node, self.unary(depth))
        return node

    def unary(self, depth: int) -> tuple:
        if depth > MAX_DEPTH:
            raise self.fail("filter nested too deeply")
        if self.accept("!"):
            return ("not", self.unary(depth + 1))
        kind, value, _ = self.peek()
        if kind == "name" and value == "typeof":
            self.next()
            return ("typeof", self.unary(depth + 1))
        return self.postfix(self.primary(depth), depth)

    def primary(self, depth: int) -> tuple:
        kind, value, at = self.next()
        if kind == "lit":
            return ("lit", value)
        if kind == "at":
            if value not in _BASES:
                raise self.fail(f"unknown name {value} (use @, @property, @parent, @parentProperty or @root)", at)
            return ("path", _BASES[value], ())
        if kind == "name":
            if value == "$":
                return ("path", "root", ())
            if value in _WORDS:
                return ("lit", _WORDS[value])
            raise self.fail(f"unknown name '{value}'", at)
        if kind == "op" and value == "(":
            node = self.expression(depth + 1)
            self.expect(")")
            return node
        if kind == "op" and value == "[":
            items: list[tuple] = []
            while not self.accept("]"):
                if items:
                    self.expect(",")
                items.append(self.expression(depth + 1))
            return ("array", tuple(items))
        raise self.fail(f"unexpected '{value}'", at)

    def postfix(self, node: tuple, depth: int) -> tuple:
        while True:
            if self.accept("."):
                kind, name, at = self.next()
                if kind != "name":
                    raise self.fail("expected a name after '.'", at)
                if self.accept("("):
                    if name not in _METHODS:
                        raise self.fail(f"unsupported method {name}() (use {', '.join(sorted(_METHODS))})", at)
                    args: list[tuple] = []
                    while not self.accept(")"):
                        if args:
                            self.expect(",")
                        args.append(self.expression(depth + 1))
                    node = ("call", node, name, tuple(args))
                else:
                    node = member_of(node, name)
            elif self.accept("["):
                kind, key, at = self.next()
                if kind != "lit" or not isinstance(key, (str, int)) or isinstance(key, bool):
                    raise self.fail("expected a quoted name or a number inside [ ]", at)
                self.expect("]")
                node = member_of(node, key)
            else:
                return node


def member_of(node: tuple, key: Any) -> tuple:
    if node[0] == "path":
        return ("path", node[1], node[2] + (key,))
    return ("member", node, key)


def depth_of(node: tuple) -> int:
    """How deeply the parsed expression nests (iteratively: the expression may be long)."""
    deepest, stack = 0, [(node, 1)]
    while stack:
        current, depth = stack.pop()
        deepest = max(deepest, depth)
        for part in current[1:]:
            if isinstance(part, tuple) and part and isinstance(part[0], str) and part[0] in _KINDS:
                stack.append((part, depth + 1))
            elif isinstance(part, tuple):  # the arguments of a call, the items of an array
                stack.extend((item, depth + 1) for item in part if isinstance(item, tuple) and item)
    return deepest


_KINDS = frozenset({"lit", "path", "member", "array", "not", "typeof", "call", "cmp", "and", "or"})
