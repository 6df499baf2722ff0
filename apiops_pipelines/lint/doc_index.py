"""Every container (mapping or list) of a document in one flat, pre-order list, for recursive descent.

Built once per document with an explicit stack (no recursion: documents may be thousands of levels deep),
then every `$..x` path of every rule scans the flat list instead of walking the tree again, and the
mappings holding a given key are found once for all rules (`prefetch`, `with_key`). A JSON pointer is
spelled out only for a node that ends up in a finding, reusing its parent's.
"""

from __future__ import annotations

from operator import itemgetter
from typing import Any

from apiops_pipelines.specs.documents import DEFAULT_LIMITS
from apiops_pipelines.specs.json_pointer import escape
from apiops_pipelines.lint.jsonpath_model import Node, Selector
from apiops_pipelines.lint.regexes import RegexTimeout


_CONTAINERS = (dict, list)
MAX_CONTAINERS = DEFAULT_LIMITS.max_nodes  # a Python object that contains itself would otherwise never end


class DocumentTooLarge(ValueError):
    """More containers than any loadable document has: the object graph is too big, or contains itself."""


def _children_of(container: Any) -> Any:
    return iter(container.items()) if type(container) is dict else enumerate(container)


class DocumentIndex:
    def __init__(self, document: Any) -> None:
        values: list[Any] = [document]
        parents: list[int] = [-1]
        keys: list[Any] = [None]
        add_value, add_parent, add_key = values.append, parents.append, keys.append
        containers = _CONTAINERS
        # A stack of (position, iterator over the children): pre-order, each subtree contiguous.
        stack = [(0, _children_of(document))] if type(document) in containers else []
        while stack:
            position, children = stack[-1]
            for key, child in children:
                if type(child) in containers:
                    below = len(values)
                    if below >= MAX_CONTAINERS:
                        raise DocumentTooLarge(f"the document has more than {MAX_CONTAINERS:,} objects and arrays")
                    add_value(child)
                    add_parent(position)
                    add_key(key)
                    stack.append((below, _children_of(child)))
                    break
            else:
                stack.pop()
        self.document = document
        self.values, self.parents, self.keys = values, parents, keys
        self._pointers: list[str | None] = [None] * len(values)
        self._pointers[0] = ""
        self._with_key: dict[str, list[int]] = {}

    def __len__(self) -> int:
        return len(self.values)

    def pointer(self, position: int) -> str:
        pointers = self._pointers
        found = pointers[position]
        if found is not None:
            return found
        chain = []
        while pointers[position] is None:
            chain.append(position)
            position = self.parents[position]
        pointer = pointers[position]
        keys = self.keys
        for below in reversed(chain):
            key = keys[below]
            pointer = f"{pointer}/{escape(key) if type(key) is str else key}"
            pointers[below] = pointer
        return pointer  # type: ignore[return-value]

    def prefetch(self, keys: set[str]) -> None:
        """Find the mappings with any of `keys` in one scan (one scan per key costs twice as much)."""
        wanted = frozenset(keys) - self._with_key.keys()
        if not wanted:
            return
        found: dict[str, list[int]] = {key: [] for key in wanted}
        for position, value in enumerate(self.values):
            if type(value) is dict:
                common = wanted.intersection(value)
                if common:
                    for key in common:
                        found[key].append(position)
        self._with_key.update(found)

    def with_key(self, key: str) -> list[int]:
        """Positions of the mappings that have `key` (cached: several rules look for `type`)."""
        found = self._with_key.get(key)
        if found is None:
            values = self.values
            found = self._with_key[key] = [p for p, v in enumerate(values) if type(v) is dict and key in v]
        return found

    def select_descendants(self, selector: Selector) -> list[Node]:
        """`$..<selector>`: the selector applied to the root and to every container below it.

        Nodes carry a lazy pointer: a position here, or (position, key); see `jsonpath.Evaluator.pointer`.
        """
        if selector.filter is not None:
            return self._filtered(selector)
        values = self.values
        found: list[Node] = []
        if selector.wildcard:
            for position, value in enumerate(values):
                found.extend(((position, k), k, c) for k, c in _children_of(value))
            return found
        names = selector.names + tuple(str(i) for i in selector.indexes)
        for name in names:
            found.extend(((position, name), name, values[position][name]) for position in self.with_key(name))
        list_picks = selector.indexes + tuple(int(n) for n in selector.names if n.isdigit())
        if list_picks or selector.slices:
            for position, value in enumerate(values):
                if type(value) is list and value:
                    picked = [i + len(value) if i < 0 else i for i in list_picks]
                    for part in selector.slices:
                        picked.extend(range(*part.indices(len(value))))
                    found.extend(((position, i), i, value[i]) for i in picked if 0 <= i < len(value))
        if len(names) > 1 or list_picks:
            found.sort(key=itemgetter(0))  # document order: (position, name) of the parent
        return found

    def _filtered(self, selector: Selector) -> list[Node]:
        """`$..[?(...)]`: every node but the root that passes, looking only where the filter can pass."""
        test = selector.filter.test  # type: ignore[union-attr]
        need_keys, need_props = selector.filter.need_keys, selector.filter.need_props  # type: ignore[union-attr]
        values, parents, keys, root = self.values, self.parents, self.keys, self.document
        found: list[Node] = []
        if need_keys is not None:
            candidates = self.with_key(next(iter(need_keys))) if len(need_keys) == 1 else \
                sorted({p for key in need_keys for p in self.with_key(key)})  # fmt: skip
            try:
                for position in candidates:
                    parent = parents[position]
                    if parent >= 0 and test(values[position], keys[position], values[parent], keys[parent], root):
                        found.append((position, keys[position], values[position]))
            except RegexTimeout as exc:  # a filter's pattern on this candidate: say which one
                exc.where = position
                raise
            return found
        for position, value in enumerate(values):
            if need_props is not None:
                if type(value) is dict:
                    items = [(k, value[k]) for k in need_props if type(k) is str and k in value]
                else:
                    items = [(k, value[k]) for k in need_props if type(k) is int and 0 <= k < len(value)]
            else:
                items = _children_of(value)
            try:
                for key, child in items:
                    if test(child, key, value, keys[position], root):
                        found.append(((position, key), key, child))
            except RegexTimeout as exc:
                exc.where = (position, key)
                raise
        return found
