"""A document built from libyaml's event stream: one pass, no recursion, every limit enforced as events arrive.

libyaml's own composer recurses in C and segfaults on deeply nested input (100,000 `[` are enough), and
PyYAML's Python constructor is slow on large specs. Scalars follow the YAML 1.2 core schema (what JSON-based
OpenAPI tools assume): `yes`/`no`/`on` stay strings, mapping keys are always strings, so the result is a plain
JSON-compatible value.
"""

from __future__ import annotations

import json
import re
from typing import Any

import yaml
from yaml import events as ev

from apiops_pipelines.specs.document_errors import DocumentError, Limits, Positions

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
# libyaml 0.2.6 refuses nesting past 1,000 levels in its scanner, which reads flow collections ahead of the
# events we count; earlier releases stream them. Either way the user gets our message, at libyaml's mark.
_PARSER_DEPTH_LIMIT = "maximum nesting depth"
_SYNTAX_FIX = ("correct the syntax at that place: close the bracket, brace or quote opened before it, and indent "
               "with spaces, the same amount for every key of a mapping")


_INT = re.compile(r"[-+]?[0-9]+\Z")
_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?\Z")
_SPECIAL = {
    "": None, "~": None, "null": None, "Null": None, "NULL": None,
    "true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False,
    ".inf": float("inf"), ".Inf": float("inf"), ".INF": float("inf"), "+.inf": float("inf"),
    "-.inf": float("-inf"), "-.Inf": float("-inf"), "-.INF": float("-inf"),
    ".nan": float("nan"), ".NaN": float("nan"), ".NAN": float("nan"),
}  # fmt: skip
_MAYBE_TYPED = frozenset("0123456789-+.~nNtTfF")
_TAG = "tag:yaml.org,2002:"


def plain_scalar(value: str) -> Any:
    if not value:
        return None
    if value[0] not in _MAYBE_TYPED:
        return value
    if value in _SPECIAL:
        return _SPECIAL[value]
    if _INT.match(value):
        return int(value)
    if value.startswith(("0x", "0o")) and len(value) > 2:
        try:
            return int(value[2:], 16 if value[1] == "x" else 8)
        except ValueError:
            return value
    if _FLOAT.match(value) and any(c.isdigit() for c in value):
        return float(value)
    return value


def _strict_bool(value: str) -> bool:
    if value.lower() not in ("true", "false"):
        raise ValueError(value)
    return value.lower() == "true"


def key_text(key: Any) -> str:
    """Mapping keys become the string JSON would use (`200:` is the status code "200")."""
    if isinstance(key, str):
        return key
    if key is None or isinstance(key, bool):
        return json.dumps(key)
    return str(key)


class _Frame:
    __slots__ = ("value", "anchor", "pointer", "key", "key_mark", "merges", "explicit", "size")

    def __init__(self, value: dict | list, anchor: str | None, pointer: str) -> None:
        self.value, self.anchor, self.pointer = value, anchor, pointer
        self.key: str | None = None
        self.key_mark: tuple[int, int] | None = None
        self.merges: list[dict] | None = None
        self.explicit = False  # the pending key is `<<` (a merge)
        self.size = 1  # nodes in this subtree once aliases are expanded


class YamlBuilder:
    def __init__(self, source: str, limits: Limits, positions: Positions | None) -> None:
        self.source, self.limits, self.positions = source, limits, positions
        self.anchors: dict[str, Any] = {}
        self.building: set[str] = set()
        self.nodes = 0
        self.stack: list[_Frame] = []
        self.result: Any = None
        self.documents = 0
        self.plain = False  # the scalar being added is plain (unquoted, untagged): only a plain << merges

    def fail(self, message: str, mark: Any = None, fix: str | None = None, syntax: bool = False) -> DocumentError:
        line = mark.line + 1 if mark is not None else None
        column = mark.column + 1 if mark is not None else None
        return DocumentError(self.source, message, line=line, column=column, fix=fix, syntax=syntax)

    def build(self, text: str) -> Any:
        try:
            for event in yaml.parse(text, Loader=_Loader):
                self.handle(event)
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            problem = exc.problem or exc.context or "invalid YAML"
            if _PARSER_DEPTH_LIMIT in problem:
                raise self.too_deep(mark) from None
            raise self.fail(f"invalid YAML: {problem}", mark, fix=_SYNTAX_FIX, syntax=True) from None
        except yaml.YAMLError as exc:
            raise DocumentError(self.source, f"invalid YAML: {exc}", syntax=True) from None
        return self.result

    def handle(self, event: Any) -> None:
        kind = type(event)
        if kind is ev.ScalarEvent:
            self.plain = not event.style and not event.tag
            self.add(self.scalar(event), event.start_mark, event.anchor, 1, 1)
            self.plain = False
        elif kind is ev.MappingStartEvent or kind is ev.SequenceStartEvent:
            if len(self.stack) >= self.limits.max_depth:
                raise self.too_deep(event.start_mark)
            self.check_tag(event, "map" if kind is ev.MappingStartEvent else "seq")
            pointer = self.child_pointer()
            self.record(pointer, event.start_mark)
            container: dict | list = {} if kind is ev.MappingStartEvent else []
            if event.anchor:
                self.building.add(event.anchor)
            self.stack.append(_Frame(container, event.anchor, pointer))
        elif kind is ev.MappingEndEvent or kind is ev.SequenceEndEvent:
            frame = self.stack.pop()
            if frame.merges:
                self.apply_merges(frame)
            if frame.anchor:
                self.building.discard(frame.anchor)
            self.add(frame.value, event.start_mark, frame.anchor, frame.size, 1, placed=True)
        elif kind is ev.AliasEvent:
            if event.anchor in self.building:
                raise self.fail(f"alias *{event.anchor} refers to a node that contains it", event.start_mark)
            if event.anchor not in self.anchors:
                raise self.fail(f"unknown alias *{event.anchor}", event.start_mark)
            value, size = self.anchors[event.anchor]
            self.add(value, event.start_mark, None, size, size)
        elif kind is ev.DocumentStartEvent:
            self.documents += 1
            if self.documents > 1:
                raise self.fail("more than one YAML document in the file", event.start_mark,
                                fix="keep one document per file (remove the extra '---')")

    def too_deep(self, mark: Any) -> DocumentError:
        return self.fail(f"nesting deeper than {self.limits.max_depth} levels", mark,
                         fix="flatten the structure or move parts into components referenced with $ref")

    def check_tag(self, event: Any, expected: str) -> None:
        tag = event.tag
        if tag and tag != "!" and tag != _TAG + expected:
            raise self.fail(f"unsupported YAML tag {tag}", event.start_mark, fix="remove the tag")

    def scalar(self, event: Any) -> Any:
        tag, value = event.tag, event.value
        if tag and tag != "!":
            converters = {"str": str, "int": int, "float": float, "null": lambda _v: None,
                          "bool": _strict_bool}  # fmt: skip
            name = tag[len(_TAG):] if tag.startswith(_TAG) else None
            if name not in converters:
                raise self.fail(f"unsupported YAML tag {tag}", event.start_mark, fix="remove the tag")
            try:
                return converters[name](value)
            except ValueError:
                raise self.fail(f"{value!r} is not a valid !!{name}", event.start_mark) from None
        if event.style or tag == "!":
            return value
        try:
            return plain_scalar(value)
        except ValueError:  # an integer with thousands of digits
            raise self.fail("number too long", event.start_mark, fix="quote it as a string") from None

    def child_pointer(self) -> str:
        if self.positions is None or not self.stack:
            return ""
        frame = self.stack[-1]
        if isinstance(frame.value, list):
            return f"{frame.pointer}/{len(frame.value)}"
        key = (frame.key or "").replace("~", "~0").replace("/", "~1")
        return f"{frame.pointer}/{key}"

    def record(self, pointer: str, mark: Any) -> None:
        if self.positions is not None and pointer not in self.positions:
            self.positions[pointer] = (mark.line + 1, mark.column + 1)

    def add(self, value: Any, mark: Any, anchor: str | None, size: int, new: int, placed: bool = False) -> None:
        """Place `value` (expanding to `size` nodes, `new` of them not counted yet) in its parent."""
        self.nodes += new
        if self.nodes > self.limits.max_nodes:
            raise self.fail(
                f"document expands to more than {self.limits.max_nodes:,} nodes (an alias bomb?)",
                mark,
                fix="remove the repeated aliases (&anchor / *alias)",
            )
        if anchor:
            self.anchors[anchor] = (value, size)
        if not self.stack:
            self.result = value
            return
        frame = self.stack[-1]
        frame.size += size
        container = frame.value
        if isinstance(container, list):
            if not placed:
                self.record(f"{frame.pointer}/{len(container)}", mark)
            container.append(value)
            return
        if frame.key is None:
            if isinstance(value, (dict, list)):
                raise self.fail("a mapping key must be a plain value", mark)
            key = key_text(value)
            frame.explicit = key == "<<" and self.plain
            if not frame.explicit and key in container:
                raise self.fail(f"duplicate key '{key}'", mark, fix="remove one of the two entries")
            frame.key, frame.key_mark = key, (mark.line + 1, mark.column + 1)
            if self.positions is not None and not frame.explicit:
                escaped = key.replace("~", "~0").replace("/", "~1")
                self.positions.setdefault(f"{frame.pointer}/{escaped}", frame.key_mark)
            return
        if frame.explicit:
            merged = value if isinstance(value, list) else [value]
            if not all(isinstance(item, dict) for item in merged):
                raise self.fail("'<<' merges only mappings", mark)
            frame.merges = (frame.merges or []) + merged
        else:
            container[frame.key] = value
        frame.key, frame.explicit = None, False

    def apply_merges(self, frame: _Frame) -> None:
        mapping = frame.value
        assert isinstance(mapping, dict) and frame.merges is not None
        for source in frame.merges:  # earlier merges win over later ones, explicit keys over all
            for key, value in source.items():
                if key not in mapping:
                    mapping[key] = value
