"""A compiled JSONPath: its steps and selectors, and the nodes evaluation yields (shared with `doc_index`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from apiops_pipelines.lint.jsonpath_filter import Filter

# (pointer, key or index it sits under, value). The pointer is lazy until a finding needs it: a string,
# a position in the document index, or (parent's pointer, key); `Evaluator.pointer` spells it out.
Node = tuple[Any, Any, Any]


@dataclass(frozen=True)
class Selector:
    """One bracket or dot step: the union of names, indexes, slices, a wildcard or a filter."""

    names: tuple[str, ...] = ()
    indexes: tuple[int, ...] = ()
    slices: tuple[slice, ...] = ()
    wildcard: bool = False
    filter: Filter | None = None


@dataclass(frozen=True)
class Step:
    selector: Selector
    descendant: bool  # `..`: apply the selector to the node and to every node below it


@dataclass(frozen=True)
class JSONPath:
    source: str
    steps: tuple[Step, ...]
    keys: bool  # ends with `~`

    def __str__(self) -> str:
        return self.source
