"""JSONPath as Spectral rulesets write it, evaluated to `(JSON pointer, value)` pairs.

Supported: `$`, `.key`, `['key']`, `[*]`, `.*`, `..` (recursive descent), `[0]`, `[-1]`, `[1:3]`, unions
(`['a','b']`, `[get,put]`), filters `[?(...)]` (see `jsonpath_filter`) and a final `~` (the key of each
match instead of its value). Paths compile once (cached). Evaluation goes step by step over the current
matches, never recursing in Python: a document may be thousands of levels deep. A descent from the root
uses the document's container index (`doc_index`), built once per document and shared by every path.
Matches are the document's own objects (never copies) with lazy pointers (see `Node`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from apiops_pipelines.lint import regexes
from apiops_pipelines.lint.doc_index import MAX_CONTAINERS, DocumentIndex, DocumentTooLarge
from apiops_pipelines.lint.errors import RulesetError
from apiops_pipelines.lint.jsonpath_filter import FilterSyntaxError, parse_filter
from apiops_pipelines.lint.jsonpath_model import JSONPath, Node, Selector, Step
from apiops_pipelines.lint.regexes import JsRegex, RegexTimeout

_NAME = re.compile(r"[^.\[\]~\s]+")
_ITEM = re.compile(
    r"\s*(?:(?P<str>'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\")|(?P<slice>-?\d*\s*:\s*-?\d*(?:\s*:\s*-?\d+)?)"
    r"|(?P<int>-?\d+)|(?P<star>\*)|(?P<name>[^,\]'\"\s]+))\s*(?P<end>[,\]])"
)


def _error(expression: str, message: str, position: int) -> RulesetError:
    shown = expression if len(expression) <= 200 else expression[:200] + "…"
    return RulesetError(
        "jsonpath",
        f"cannot parse JSONPath {shown!r}: {message} at character {position + 1}",
        fix="write the path like $.paths[*][get,post].responses or $..[?(@.type == 'object')]",
    )


@lru_cache(maxsize=2048)
def compile_path(expression: str) -> JSONPath:
    """Parse a JSONPath once; a RulesetError names the expression and where it went wrong."""
    text = expression.strip()
    if not text.startswith("$"):
        raise _error(expression, "a path starts with $", 0)
    steps: list[Step] = []
    pos, keys = 1, False
    while pos < len(text):
        char = text[pos]
        if char == "~" and pos == len(text) - 1:
            keys, pos = True, pos + 1
        elif char == "." or char == "[":
            descendant = text.startswith("..", pos)
            pos += 2 if descendant else 1 if char == "." else 0
            if pos >= len(text):
                raise _error(expression, "the path ends after a dot", pos)
            if text[pos] == "[":
                selector, pos = _bracket(expression, text, pos + 1)
            elif text[pos] == "*":
                selector, pos = Selector(wildcard=True), pos + 1
            else:
                match = _NAME.match(text, pos)
                if not match:
                    raise _error(expression, "expected a name", pos)
                selector, pos = Selector(names=(match.group(0),)), match.end()
            steps.append(Step(selector, descendant))
        else:
            raise _error(expression, f"unexpected {char!r}", pos)
    return JSONPath(expression, tuple(steps), keys)


def _bracket(expression: str, text: str, pos: int) -> tuple[Selector, int]:
    """Parse after `[` up to and including its `]`."""
    stripped = text[pos:].lstrip()
    pos = len(text) - len(stripped)
    if stripped.startswith("?("):
        try:
            found, end = parse_filter(text, pos + 2)
        except FilterSyntaxError as exc:
            raise _error(expression, f"in the filter, {exc}", exc.position) from None
        close = re.compile(r"\s*\]").match(text, end)
        if not close:
            raise _error(expression, "expected ']' after the filter", end)
        return Selector(filter=found), close.end()
    if stripped.startswith("("):
        raise _error(expression, "script expressions [(...)] are not supported; use a filter [?(...)]", pos)
    names: list[str] = []
    indexes: list[int] = []
    slices: list[slice] = []
    wildcard = False
    while True:
        match = _ITEM.match(text, pos)
        if not match:
            raise _error(expression, "expected a name, a quoted name, a number, * or a filter inside [ ]", pos)
        if match.group("str") is not None:
            names.append(re.sub(r"\\(.)", r"\1", match.group("str")[1:-1]))
        elif match.group("slice") is not None:
            parts = [int(p) if p.strip() else None for p in match.group("slice").split(":")]
            slices.append(slice(*parts))
        elif match.group("int") is not None:
            indexes.append(int(match.group("int")))
        elif match.group("star") is not None:
            wildcard = True
        else:
            names.append(match.group("name"))
        pos = match.end()
        if match.group("end") == "]":
            return Selector(tuple(names), tuple(indexes), tuple(slices), wildcard), pos


# --- evaluation ------------------------------------------------------------------------------------------


def _children(node: Node, selector: Selector, root: Any) -> Iterator[Node]:
    """What `selector` selects directly below one node, in document order for wildcards and filters."""
    pointer, parent_key, value = node
    kind = type(value)
    if kind is dict:
        if selector.wildcard or selector.filter is not None:
            test = selector.filter.test if selector.filter is not None else None
            try:
                for key, child in value.items():
                    if test is None or test(child, key, value, parent_key, root):
                        yield (pointer, key), key, child
            except RegexTimeout as exc:  # a filter's pattern on this candidate: say which one
                exc.where = (pointer, key)
                raise
            return
        for name in selector.names:
            if name in value:
                yield (pointer, name), name, value[name]
        for index in selector.indexes:  # `responses[200]` means the key "200"
            if str(index) in value:
                yield (pointer, str(index)), str(index), value[str(index)]
    elif kind is list:
        size = len(value)
        if selector.wildcard or selector.filter is not None:
            test = selector.filter.test if selector.filter is not None else None
            try:
                for index, child in enumerate(value):
                    if test is None or test(child, index, value, parent_key, root):
                        yield (pointer, index), index, child
            except RegexTimeout as exc:
                exc.where = (pointer, index)
                raise
            return
        picked = [i + size if i < 0 else i for i in selector.indexes]
        picked += [int(n) for n in selector.names if n.isdigit()]
        for part in selector.slices:
            picked.extend(range(*part.indices(size)))
        for index in picked:
            if 0 <= index < size:
                yield (pointer, index), index, value[index]


def _containers_below(node: Node) -> Iterator[Node]:
    """The node and every container under it, in document order, iteratively."""
    stack, seen = [node], 0
    while stack:
        node = stack.pop()
        seen += 1
        if seen > MAX_CONTAINERS:
            raise DocumentTooLarge(f"the document has more than {MAX_CONTAINERS:,} objects and arrays")
        yield node
        pointer, _, value = node
        items = value.items() if type(value) is dict else enumerate(value)
        below = [((pointer, k), k, c) for k, c in items if type(c) in (dict, list)]
        below.reverse()
        stack.extend(below)


class Evaluator:
    """Evaluates paths against one document; results and the document index are shared by all paths."""

    def __init__(self, document: Any) -> None:
        self.document = document
        self._index: DocumentIndex | None = None
        self._results: dict[str, list[Node]] = {}
        self._timeouts: dict[str, RegexTimeout] = {}  # paths whose filter ran out of time: no result, ever
        self.regex_timeouts: dict[JsRegex, int] = {}  # values each pattern ran out of time on (shared, see Context)

    @property
    def index(self) -> DocumentIndex:
        if self._index is None:
            self._index = DocumentIndex(self.document)
        return self._index

    def pointer(self, lazy: Any) -> str:
        """The JSON pointer of a node's lazy pointer (see `Node`)."""
        if type(lazy) is str:
            return lazy
        keys = []
        while type(lazy) is tuple:
            lazy, key = lazy
            keys.append(key)
        keys.reverse()
        base = lazy if type(lazy) is str else self.index.pointer(lazy)
        if not keys:
            return base
        escaped = [k.replace("~", "~0").replace("/", "~1") if type(k) is str else str(k) for k in keys]
        return f"{base}/{'/'.join(escaped)}"

    def select(self, path: JSONPath) -> list[Node]:
        """Every match of `path` as (pointer, key, value); with a final `~` the value is the key."""
        cached = self._results.get(path.source)
        if cached is not None:
            return cached
        failed = self._timeouts.get(path.source)
        if failed is not None:  # every rule with this `given` would pay the time limit again
            raise failed.with_traceback(None)
        try:
            self._give_up(path)
            cached = self._results[path.source] = self._evaluate(path)
        except RegexTimeout as exc:
            if exc.where is not None and exc.pointer is None:
                exc.pointer = self.pointer(exc.where)
            if not exc.given_up_after:
                self.regex_timeouts[exc.regex] = self.regex_timeouts.get(exc.regex, 0) + 1
            self._timeouts[path.source] = exc
            raise
        return cached

    def _give_up(self, path: JSONPath) -> None:
        """RegexTimeout at once when a filter's pattern already ran out of time MAX_REGEX_TIMEOUTS times."""
        for step in path.steps:
            found = step.selector.filter
            for regex in found.regexes if found is not None else ():
                spent = self.regex_timeouts.get(regex, 0)
                if spent >= regexes.MAX_REGEX_TIMEOUTS:
                    raise RegexTimeout(regex, regexes.BACKTRACK_LIMIT_MS, given_up_after=spent)

    def _evaluate(self, path: JSONPath) -> list[Node]:
        nodes: list[Node] = [("", None, self.document)]
        for number, step in enumerate(path.steps):
            if step.descendant and number == 0:
                nodes = self.index.select_descendants(step.selector)
            elif step.descendant:
                nodes = self._descendants(nodes, step.selector)
            else:
                root = self.document
                nodes = [child for node in nodes for child in _children(node, step.selector, root)]
            if not nodes:
                return []
        if path.keys:
            return [(pointer, key, key) for pointer, key, _ in nodes if key is not None]
        return nodes

    def _descendants(self, nodes: list[Node], selector: Selector) -> list[Node]:
        found: list[Node] = []
        seen: set[str] = set()  # `$..a..b` reaches some nodes through several `a`s
        for node in nodes:
            if type(node[2]) not in (dict, list):
                continue
            for container in _containers_below(node):
                for child in _children(container, selector, self.document):
                    pointer = self.pointer(child[0])
                    if pointer not in seen:
                        seen.add(pointer)
                        found.append((pointer, child[1], child[2]))
        return found


def query(document: Any, expression: str | JSONPath) -> Iterator[tuple[str, Any]]:
    """The (JSON pointer, value) pairs `expression` selects in `document`."""
    path = compile_path(expression) if isinstance(expression, str) else expression
    evaluator = Evaluator(document)
    for pointer, _, value in evaluator.select(path):
        yield evaluator.pointer(pointer), value
