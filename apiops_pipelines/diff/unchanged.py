"""Which parts of the two documents are the same, references included: an operation whose text is equal
in both and whose references all lead to equal text (however deep, cycles included) cannot have changed,
so the diff skips it without modelling it. On a big spec with a few edits this is most of the work saved.
"""

from __future__ import annotations

import re
from typing import Any

from apiops_pipelines.diff.refs import SpecDocument

_REF_TEXT = re.compile(r"'\$ref': '([^'\\]*)'")


def refs_in(node: Any) -> list[str]:
    """Every `$ref` string below `node`. Read from the node's text (built in C) when that text is plain;
    a reference spelled with quotes or backslashes, or prose that quotes '$ref', falls back to a walk."""
    if not isinstance(node, (dict, list)):
        return []
    text = repr(node)
    found = _REF_TEXT.findall(text)
    return found if len(found) == text.count("'$ref'") else _walk(node)


def _walk(node: Any) -> list[str]:
    found: list[str] = []
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, dict):
            if isinstance(current.get("$ref"), str):
                found.append(current["$ref"])
            stack.extend(v for v in current.values() if isinstance(v, (dict, list)))
        elif isinstance(current, list):
            stack.extend(v for v in current if isinstance(v, (dict, list)))
    return found


class Unchanged:
    def __init__(self, base: SpecDocument, revision: SpecDocument) -> None:
        self.base, self.revision = base, revision
        self._children: dict[str, list[str]] = {}  # reference -> references inside its (equal) target
        self._parents: dict[str, list[str]] = {}
        self._changed: set[str] = set()  # references whose target differs, or reaches one that does

    def same(self, base_node: Any, revision_node: Any) -> bool:
        if base_node != revision_node:
            return False
        refs = refs_in(base_node)
        for ref in refs:
            self._expand(ref)
        return not any(ref in self._changed for ref in refs)

    def _expand(self, root: str) -> None:
        stack = [root]
        while stack:
            ref = stack.pop()
            if ref in self._children:
                continue
            old, new = self.base.target(ref), self.revision.target(ref)
            if old != new:
                self._children[ref] = []
                self._mark_changed(ref)
                continue
            children = self._children[ref] = refs_in(old)
            for child in children:
                self._parents.setdefault(child, []).append(ref)
                if child in self._changed:
                    self._mark_changed(ref)
                elif child not in self._children:
                    stack.append(child)

    def _mark_changed(self, ref: str) -> None:
        pending = [ref]
        while pending:
            current = pending.pop()
            if current not in self._changed:
                self._changed.add(current)
                pending.extend(self._parents.get(current, ()))
