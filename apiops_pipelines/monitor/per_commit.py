"""A small bounded memo for what never changes once committed (an API's SLO at a commit, the operation matcher
of a spec by its hash): read once per process, not once per tick."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

T = TypeVar("T")


class PerCommit(Generic[T]):
    def __init__(self, size: int = 256) -> None:
        self.size = size
        self._known: OrderedDict[Hashable, T] = OrderedDict()

    def get(self, key: Hashable, load: Callable[[], T]) -> T:
        """The value for `key`, loaded on first use; a load that raises is not remembered (it may be passing:
        a repository cache busy with a fetch)."""
        if key in self._known:
            self._known.move_to_end(key)
            return self._known[key]
        value = load()
        self._known[key] = value
        if len(self._known) > self.size:
            self._known.popitem(last=False)
        return value
