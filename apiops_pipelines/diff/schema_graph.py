"""Every schema pair a diff reaches, compared once, and walked per use to report what changed there.

Pairs of referenced places form a graph (cycles included). Each pair is compared once (`Entry`); a pair is
"dirty" when it or anything it reaches has a finding, which is kept up to date by propagating along the
reverse edges as pairs are compared. Reporting a use of a schema then only walks dirty pairs, each once per
use, so an unchanged component referenced by thousands of operations costs one comparison in total.
"""

from __future__ import annotations

from collections import deque

from apiops_pipelines.diff.refs import Ref
from apiops_pipelines.diff.schema_compare import SchemaComparer
from apiops_pipelines.diff.schema_findings import Entry, Key, Path, SchemaFinding


class SchemaGraph:
    def __init__(self, comparer: SchemaComparer) -> None:
        self._comparer = comparer
        self._entries: dict[Key, Entry] = {}
        self._parents: dict[Key, list[Key]] = {}
        self._dirty: set[Key] = set()

    def findings(self, base: Ref, revision: Ref, direction: str, seen: set[Key]) -> list[tuple[Path, SchemaFinding]]:
        """What changed in a schema used in `direction`, each finding with its path from this schema.
        Pairs already in `seen` (reported for another use in the same place) are skipped."""
        root = self._comparer.key(base, revision, direction)
        self._expand(root)
        if root not in self._dirty or root in seen:
            return []
        seen.add(root)
        found: list[tuple[Path, SchemaFinding]] = []
        queue: deque[tuple[Key, Path]] = deque([(root, ())])
        while queue:  # breadth first: each finding is reported at the shortest path that reaches it
            key, prefix = queue.popleft()
            entry = self._entries[key]
            found.extend((prefix + f.path, f) for f in entry.findings)
            for path, child in entry.edges:
                if child in self._dirty and child not in seen:
                    seen.add(child)
                    queue.append((child, prefix + path))
        return found

    def _expand(self, root: Key) -> None:
        stack = [root]
        while stack:
            key = stack.pop()
            if key in self._entries:
                continue
            entry = self._entries[key] = self._comparer.compare(key)
            if entry.findings:
                self._mark_dirty(key)
            for _, child in entry.edges:
                self._parents.setdefault(child, []).append(key)
                if child in self._dirty:
                    self._mark_dirty(key)
                elif child not in self._entries:
                    stack.append(child)

    def _mark_dirty(self, key: Key) -> None:
        pending = [key]
        while pending:
            current = pending.pop()
            if current not in self._dirty:
                self._dirty.add(current)
                pending.extend(self._parents.get(current, ()))
