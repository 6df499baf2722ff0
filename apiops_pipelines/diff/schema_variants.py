"""oneOf / anyOf variants, matched by what they are (the component they reference, their content, their
title, their type) rather than by position: reordering variants is no change, and a variant that is gone
is named. Removing one narrows what a request may be; adding one widens what a response may be."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from apiops_pipelines.diff.refs import Ref, SpecDocument, is_pure_ref
from apiops_pipelines.diff.schema_findings import Entry, Path, SchemaFinding
from apiops_pipelines.diff.schema_view import SchemaView, view_of

class Comparer(Protocol):
    """What variant matching needs of the schema comparer that calls it (`schema_compare.SchemaComparer`)."""

    base: SpecDocument
    revision: SpecDocument

    def child(self, base: Ref, revision: Ref, direction: str, path: Path, entry: Entry, depth: int) -> None: ...


def compare_variants(comparer: Comparer, bv: SchemaView, rv: SchemaView, base: Ref | None,
                     revision: Ref | None, direction: str, path: Path, entry: Entry, depth: int) -> None:  # fmt: skip
    """A side without variants but given as `base`/`revision` counts as one variant: itself (a schema
    refactored into a oneOf is compared with its closest variant)."""
    old = bv.variants if bv.variants is not None else [base] if base is not None else []
    new = rv.variants if rv.variants is not None else [revision] if revision is not None else []
    pairs, removed, added = _match(comparer.base, comparer.revision, old, new)  # type: ignore[arg-type]
    for b, r in pairs:
        label = _label(comparer.revision, r, rv) if rv.variants is not None else _label(comparer.base, b, bv)
        comparer.child(b, r, direction, path + (f"<{label}>",), entry, depth)
    for b in removed:
        text = f"{bv.variant_keyword} variant {_label(comparer.base, b, bv)!r} removed"
        entry.findings.append(SchemaFinding("variant-removed", path, b[0], text))
    for r in added:
        text = f"{rv.variant_keyword} variant {_label(comparer.revision, r, rv)!r} added"
        entry.findings.append(SchemaFinding("variant-added", path, r[0], text))


def _label(doc: SpecDocument, ref: Ref, owner: SchemaView) -> str:
    if is_pure_ref(ref[1]):
        return doc.resolve(ref)[0].rsplit("/", 1)[-1]
    node = ref[1]
    if isinstance(node, dict) and isinstance(node.get("title"), str):
        return node["title"]
    return ref[0][len(owner.pointer) + 1 :] if ref[0].startswith(owner.pointer + "/") else "schema"


def _match(base_doc: SpecDocument, revision_doc: SpecDocument, base: list[Ref],
           revision: list[Ref]) -> tuple[list[tuple[Ref, Ref]], list[Ref], list[Ref]]:  # fmt: skip
    pairs: list[tuple[Ref, Ref]] = []
    left_b, left_r = list(base), list(revision)

    def pair_by(same: Callable[[Ref, Ref], bool]) -> None:
        i = 0
        while i < len(left_b):
            j = next((j for j, r in enumerate(left_r) if same(left_b[i], r)), None)
            if j is None:
                i += 1
            else:
                pairs.append((left_b.pop(i), left_r.pop(j)))

    def target(doc: SpecDocument, ref: Ref) -> str | None:
        return doc.resolve(ref)[0] if is_pure_ref(ref[1]) else None

    def title(ref: Ref) -> object:
        return ref[1].get("title") if isinstance(ref[1], dict) else None

    pair_by(lambda b, r: target(base_doc, b) is not None and target(base_doc, b) == target(revision_doc, r))
    pair_by(lambda b, r: not is_pure_ref(b[1]) and b[1] == r[1])
    pair_by(lambda b, r: title(b) is not None and title(b) == title(r))
    pair_by(lambda b, r: view_of(base_doc, b).types == view_of(revision_doc, r).types)
    return pairs, left_b, left_r
