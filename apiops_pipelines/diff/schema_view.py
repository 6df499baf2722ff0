"""A schema as the diff sees it: `allOf` merged, `$ref`s followed, keywords of every dialect normalized.

OpenAPI 3.0 (`nullable`, boolean `exclusiveMaximum`), 3.1 (type lists, `const`, numeric exclusive bounds)
and Swagger 2.0 (`x-nullable`, parameters that are their own schema) all become one `SchemaView`. Views
are cached per pointer: a component used by a thousand operations is normalized once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from apiops_pipelines.diff.refs import Ref, SpecDocument, escape, is_pure_ref

# keyword -> True when it is an upper bound
BOUND_KEYWORDS: dict[str, bool] = {
    "maxLength": True, "minLength": False, "maximum": True, "minimum": False, "maxItems": True, "minItems": False,
}  # fmt: skip
Bound = tuple[float, bool]  # (value, exclusive)


@dataclass(slots=True)
class SchemaView:
    pointer: str
    types: frozenset[str] | None = None  # None: any type; "null" is kept apart in `nullable`
    nullable: bool = False
    format: str | None = None
    enum: dict[str, Any] | None = None  # canonical text of each value -> value
    bounds: dict[str, Bound] = field(default_factory=dict)
    pattern: str | None = None
    properties: dict[str, Ref] = field(default_factory=dict)
    required: frozenset[str] = frozenset()
    additional: bool | Ref = True
    items: Ref | None = None
    variants: list[Ref] | None = None  # oneOf / anyOf
    variant_keyword: str = "oneOf"


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def enum_key(value: Any) -> str:
    return repr(value) if not isinstance(value, (dict, list)) else _canonical(value)


def _canonical(value: Any) -> str:
    if isinstance(value, dict):
        items = sorted(value.items(), key=lambda kv: str(kv[0]))
        return "{" + ",".join(f"{k!r}:{_canonical(v)}" for k, v in items) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_canonical(v) for v in value) + "]"
    return repr(value)


def _parts(doc: SpecDocument, ref: Ref) -> list[Ref]:
    """The schema and its `allOf` members (and the target of a `$ref` with sibling keywords), depth first,
    each place once: `allOf` cycles end instead of looping."""
    parts: list[Ref] = []
    seen: set[str] = set()
    stack = [ref]
    while stack:
        pointer, node = doc.resolve(stack.pop())
        if not isinstance(node, dict) or pointer in seen:
            continue
        seen.add(pointer)
        parts.append((pointer, node))
        members = node.get("allOf")
        if isinstance(members, list):
            stack.extend((f"{pointer}/allOf/{i}", members[i]) for i in reversed(range(len(members))))
        if isinstance(node.get("$ref"), str):  # a `$ref` with schema siblings (3.1): both apply
            stack.append((f"{pointer}/$ref", {"$ref": node["$ref"]}))
    return parts


def view_of(doc: SpecDocument, ref: Ref) -> SchemaView:
    pointer = doc.resolve(ref)[0] if is_pure_ref(ref[1]) else ref[0]
    view = doc.views.get(pointer)
    if view is None:
        view = doc.views[pointer] = _build(doc, ref, pointer)
    return view


def _build(doc: SpecDocument, ref: Ref, pointer: str) -> SchemaView:
    view = SchemaView(pointer)
    required: set[str] = set()
    for part_pointer, part in _parts(doc, ref):
        _merge_scalars(view, part)
        props = part.get("properties")
        if isinstance(props, dict):
            base = f"{part_pointer}/properties/"
            for name, schema in props.items():
                if name not in view.properties:
                    view.properties[name] = (base + escape(str(name)), schema)
        names = part.get("required")
        if isinstance(names, list):  # Swagger 2.0 parameters use a boolean here: not a property list
            required.update(n for n in names if isinstance(n, str))
        extra = part.get("additionalProperties")
        if view.additional is True and extra is not None and extra is not True:
            view.additional = False if extra is False else (f"{part_pointer}/additionalProperties", extra)
        items = part.get("items")
        if view.items is None and isinstance(items, dict):
            view.items = (f"{part_pointer}/items", items)
        if view.variants is None:
            for keyword in ("oneOf", "anyOf"):
                variants = part.get(keyword)
                if isinstance(variants, list):
                    view.variants = [(f"{part_pointer}/{keyword}/{i}", v) for i, v in enumerate(variants)]
                    view.variant_keyword = keyword
                    break
    view.required = frozenset(required)
    if view.types is None:
        if view.properties or view.additional is not True:
            view.types = frozenset({"object"})
        elif view.items is not None:
            view.types = frozenset({"array"})
    return view


def _merge_scalars(view: SchemaView, part: dict[str, Any]) -> None:
    declared = part.get("type")
    if view.types is None and declared is not None:
        listed = [declared] if isinstance(declared, str) else declared if isinstance(declared, list) else []
        names = {t for t in listed if isinstance(t, str)}
        if "null" in names:
            view.nullable = True
        view.types = frozenset(names - {"null"}) or None
    if part.get("nullable") is True or part.get("x-nullable") is True:
        view.nullable = True
    if view.format is None and isinstance(part.get("format"), str):
        view.format = part["format"]
    if view.pattern is None and isinstance(part.get("pattern"), str):
        view.pattern = part["pattern"]
    if view.enum is None:
        if isinstance(part.get("enum"), list):
            view.enum = {enum_key(v): v for v in part["enum"]}
        elif "const" in part:
            view.enum = {enum_key(part["const"]): part["const"]}
    for keyword in BOUND_KEYWORDS:
        if keyword not in view.bounds and _number(part.get(keyword)):
            view.bounds[keyword] = (part[keyword], False)
    for keyword, exclusive in (("maximum", "exclusiveMaximum"), ("minimum", "exclusiveMinimum")):
        value = part.get(exclusive)
        if value is True and keyword in view.bounds:  # 3.0: a flag on the bound
            view.bounds[keyword] = (view.bounds[keyword][0], True)
        elif _number(value):  # 3.1: the bound itself
            current = view.bounds.get(keyword)
            upper = keyword == "maximum"
            if current is None or (value <= current[0] if upper else value >= current[0]):
                view.bounds[keyword] = (value, True)
