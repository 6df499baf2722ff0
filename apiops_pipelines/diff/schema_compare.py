"""The rules for one pair of schemas: what changed in a schema, read in the direction it travels.

A comparison covers the schema's inline parts and stops at every `$ref`: there it records an edge to the
pair of referenced places (`Key`) instead of descending. `SchemaGraph` compares each such pair once, so
shared components cost nothing per use and cyclic schemas end.
"""

from __future__ import annotations

from apiops_pipelines.diff.refs import Ref, SpecDocument, is_pure_ref
from apiops_pipelines.diff.schema_findings import Entry, Key, Path, SchemaFinding
from apiops_pipelines.diff.schema_variants import compare_variants
from apiops_pipelines.diff.schema_view import BOUND_KEYWORDS, Bound, SchemaView, view_of

MAX_INLINE_DEPTH = 64  # nesting below one schema without a `$ref` in between; deeper parts are not compared
_WIDER_FORMATS = frozenset({("int32", "int64"), ("float", "double")})
_BOUND_NAMES = {
    "maxLength": "max-length", "minLength": "min-length", "maximum": "maximum", "minimum": "minimum",
    "maxItems": "max-items", "minItems": "min-items",
}  # fmt: skip


def _show(values: object) -> str:
    items = list(values)  # type: ignore[call-overload]
    return ", ".join(repr(v) for v in items[:10]) + (f" and {len(items) - 10} more" if len(items) > 10 else "")


def _covers(wide: frozenset[str], narrow: frozenset[str]) -> bool:
    return all(t in wide or (t == "integer" and "number" in wide) for t in narrow)


def _type_kind(base: frozenset[str] | None, revision: frozenset[str] | None) -> str:
    if revision is None or (base is not None and _covers(revision, base)):
        return "type-widened"
    if base is None or _covers(base, revision):
        return "type-narrowed"
    return "type-changed"


def _format_kind(base: str | None, revision: str | None) -> str:
    if revision is None or (base, revision) in _WIDER_FORMATS:
        return "format-widened"
    if base is None or (revision, base) in _WIDER_FORMATS:
        return "format-narrowed"
    return "format-changed"


def _tighter(revision: Bound | None, base: Bound | None, upper: bool) -> bool:
    if base is None or revision is None:
        return base is None
    if revision[0] != base[0]:
        return revision[0] < base[0] if upper else revision[0] > base[0]
    return revision[1] and not base[1]


def _bound_text(bound: Bound | None) -> str:
    return "unset" if bound is None else f"{bound[0]}{' (exclusive)' if bound[1] else ''}"


class SchemaComparer:
    def __init__(self, base: SpecDocument, revision: SpecDocument) -> None:
        self.base, self.revision = base, revision
        self.pairs: dict[Key, tuple[Ref, Ref]] = {}
        self._has_ref: dict[int, tuple[object, bool]] = {}  # id -> (the node, kept alive so ids stay unique; answer)

    def key(self, base: Ref, revision: Ref, direction: str) -> Key:
        base, revision = self.base.resolve(base), self.revision.resolve(revision)
        key = (base[0], revision[0], direction)
        self.pairs.setdefault(key, (base, revision))
        return key

    def compare(self, key: Key) -> Entry:
        base, revision = self.pairs[key]
        entry = Entry()
        self._schema(base, revision, key[2], (), entry, 0)
        return entry

    def child(self, base: Ref, revision: Ref, direction: str, path: Path, entry: Entry, depth: int) -> None:
        if is_pure_ref(base[1]) or is_pure_ref(revision[1]):
            entry.edges.append((path, self.key(base, revision, direction)))
        else:
            self._schema(base, revision, direction, path, entry, depth + 1)

    def _schema(self, base: Ref, revision: Ref, direction: str, path: Path, entry: Entry, depth: int) -> None:
        if depth > MAX_INLINE_DEPTH or (base[1] == revision[1] and not self._refs_inside(base[1])):
            return  # identical and self-contained: nothing below can differ
        bv, rv = view_of(self.base, base), view_of(self.revision, revision)
        # A schema refactored into (or out of) oneOf/anyOf: the plain side is compared with its closest variant.
        refactored = (bv.variants is None) != (rv.variants is None)
        variant_side = rv if bv.variants is None else bv
        if refactored and variant_side.types is None and not variant_side.properties:
            compare_variants(self, bv, rv, base, revision, direction, path, entry, depth)
            return
        self._values(bv, rv, direction, path, entry.findings)
        if bv.types and rv.types and bv.types.isdisjoint(rv.types) and _type_kind(bv.types, rv.types) == "type-changed":
            return  # an object that became an array: listing its old properties one by one says nothing more
        self._object(bv, rv, direction, path, entry, depth)
        if bv.items is not None and rv.items is not None:
            self.child(bv.items, rv.items, direction, path + ("[]",), entry, depth)
        if bv.variants is not None or rv.variants is not None:
            compare_variants(self, bv, rv, None, None, direction, path, entry, depth)

    def _refs_inside(self, node: object) -> bool:
        """Whether a `$ref` sits anywhere below `node` (then equal text may still mean different schemas).
        The text of the node is built in C, far faster than walking it; a description that merely quotes
        '$ref' costs a full comparison, never a missed change."""
        if not isinstance(node, (dict, list)):
            return False
        known = self._has_ref.get(id(node))
        if known is None:
            known = self._has_ref[id(node)] = (node, "'$ref'" in repr(node))
        return known[1]

    def _values(self, bv: SchemaView, rv: SchemaView, direction: str, path: Path, out: list[SchemaFinding]) -> None:
        at = rv.pointer
        if bv.types != rv.types:
            text = f"type changed from {_types(bv.types)} to {_types(rv.types)}"
            out.append(SchemaFinding(_type_kind(bv.types, rv.types), path, at, text))
        elif bv.format != rv.format:
            text = f"format changed from {bv.format or 'none'} to {rv.format or 'none'}"
            out.append(SchemaFinding(_format_kind(bv.format, rv.format), path, at, text))
        if bv.nullable != rv.nullable:
            kind = "became-nullable" if rv.nullable else "became-non-nullable"
            out.append(SchemaFinding(kind, path, at, "now accepts null" if rv.nullable else "no longer accepts null"))
        if bv.enum != rv.enum:
            self._enum(bv, rv, direction, path, out)
        if bv.bounds != rv.bounds:
            for keyword, upper in BOUND_KEYWORDS.items():
                b, r = _meaningful(keyword, bv.bounds.get(keyword)), _meaningful(keyword, rv.bounds.get(keyword))
                if b != r:
                    tighter = _tighter(r, b, upper)
                    change = "decreased" if tighter == upper else "increased"
                    text = f"{keyword} {change} from {_bound_text(b)} to {_bound_text(r)}"
                    out.append(SchemaFinding(f"{_BOUND_NAMES[keyword]}-{change}", path, at, text))
        if bv.pattern != rv.pattern:
            if bv.pattern is None:
                out.append(SchemaFinding("pattern-added", path, at, f"pattern {rv.pattern!r} added"))
            elif rv.pattern is None:
                out.append(SchemaFinding("pattern-removed", path, at, f"pattern {bv.pattern!r} removed"))
            else:
                text = f"pattern changed from {bv.pattern!r} to {rv.pattern!r}"
                out.append(SchemaFinding("pattern-changed", path, at, text))

    def _enum(self, bv: SchemaView, rv: SchemaView, direction: str, path: Path, out: list[SchemaFinding]) -> None:
        at = rv.pointer
        if bv.enum is None:
            values = rv.enum.values()  # type: ignore[union-attr]
            out.append(SchemaFinding("enum-narrowed", path, at, f"now limited to {_show(values)}"))
            return
        if rv.enum is None:
            out.append(SchemaFinding("enum-widened", path, at, f"no longer limited to {_show(bv.enum.values())}"))
            return
        removed = [v for k, v in bv.enum.items() if k not in rv.enum]
        added = [v for k, v in rv.enum.items() if k not in bv.enum]
        if removed:
            out.append(SchemaFinding("enum-narrowed", path, at, f"enum value {_show(removed)} removed"))
        if added:
            why = " (response enum widened: clients may not handle the new value)" if direction == "response" else ""
            out.append(SchemaFinding("enum-widened", path, at, f"enum value {_show(added)} added{why}"))

    def _object(self, bv: SchemaView, rv: SchemaView, direction: str, path: Path, entry: Entry, depth: int) -> None:
        out = entry.findings
        if bv.properties or rv.properties:
            hidden = "readOnly" if direction == "request" else "writeOnly"
            base_props = self._visible(self.base, bv.properties, hidden)
            rev_props = self._visible(self.revision, rv.properties, hidden)
            for name, b in base_props.items():
                r = rev_props.get(name)
                where = path + (name,)
                if r is None:
                    note = " (it was required)" if name in bv.required else ""
                    out.append(SchemaFinding("property-removed", where, b[0], f"removed{note}"))
                    continue
                was, now = name in bv.required, name in rv.required
                if was != now:
                    kind = "property-became-required" if now else "property-became-optional"
                    out.append(SchemaFinding(kind, where, r[0], "became required" if now else "became optional"))
                self.child(b, r, direction, where, entry, depth)
            for name, r in rev_props.items():
                if name not in base_props:
                    required = name in rv.required
                    kind = "required-property-added" if required and direction == "request" else "property-added"
                    out.append(SchemaFinding(kind, path + (name,), r[0], "added (required)" if required else "added"))
        b_extra, r_extra = bv.additional, rv.additional
        if b_extra is not False and r_extra is False:
            text = "additional properties no longer allowed"
            out.append(SchemaFinding("additional-properties-disallowed", path, rv.pointer, text))
        elif b_extra is False and r_extra is not False:
            text = "additional properties allowed"
            out.append(SchemaFinding("additional-properties-allowed", path, rv.pointer, text))
        elif isinstance(b_extra, tuple) and isinstance(r_extra, tuple):
            self.child(b_extra, r_extra, direction, path + ("*",), entry, depth)

    def _visible(self, doc: SpecDocument, properties: dict[str, Ref], hidden: str) -> dict[str, Ref]:
        """Properties that travel in this direction (readOnly ones are not sent, writeOnly ones not returned)."""
        kept = None
        for name, ref in properties.items():
            node = doc.resolve(ref)[1] if is_pure_ref(ref[1]) else ref[1]
            if isinstance(node, dict) and node.get(hidden) is True:
                kept = kept if kept is not None else {n: r for n, r in properties.items()}
                del kept[name]
        return properties if kept is None else kept


def _meaningful(keyword: str, bound: Bound | None) -> Bound | None:
    """minLength: 0 and minItems: 0 are no constraint at all."""
    return None if bound is not None and bound[0] == 0 and keyword in ("minLength", "minItems") else bound


def _types(types: frozenset[str] | None) -> str:
    return "any" if types is None else "/".join(sorted(types))
