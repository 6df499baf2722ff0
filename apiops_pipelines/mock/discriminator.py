"""OpenAPI's `discriminator` as JSON Schema: the value of one property picks the branch of a oneOf/anyOf.

Plain JSON Schema ignores the keyword, so generated data carried any string there (GitHub's `GET /user`
answered `user_view_type: "qiavcaxe"`, which selects no schema), and requests naming no branch passed.
Each `$ref` branch gets the values that select it as an enum on that property (mapping keys pointing at
it, else its component name, as OpenAPI resolves them); branches no value can select are dropped.
"""

from __future__ import annotations

from typing import Any

_COMPONENTS = "#/components/schemas/"


def _target(ref: str) -> str:
    """A mapping value as a reference: `Cat` means `#/components/schemas/Cat`."""
    return ref if ref.startswith("#") or "/" in ref else _COMPONENTS + ref


def discriminated(schema: dict[str, Any], out: dict[str, Any]) -> dict[str, Any]:
    """`out` (the translation of `schema`) with its oneOf/anyOf branches bound to their discriminator values."""
    discriminator = schema.get("discriminator")
    if not isinstance(discriminator, dict) or not isinstance(discriminator.get("propertyName"), str):
        return out  # Swagger 2.0 names only the property, for allOf inheritance: nothing to bind
    name = discriminator["propertyName"]
    mapping = discriminator.get("mapping") if isinstance(discriminator.get("mapping"), dict) else {}
    targets = {key: _target(ref) for key, ref in mapping.items() if isinstance(ref, str)}
    for keyword in ("oneOf", "anyOf"):
        branches = schema.get(keyword)
        if not isinstance(branches, list) or not isinstance(out.get(keyword), list):
            continue
        bound = []
        for original, translated in zip(branches, out[keyword]):
            ref = original.get("$ref") if isinstance(original, dict) else None
            values = [key for key, target in targets.items() if target == ref] if isinstance(ref, str) else []
            implicit = ref[len(_COMPONENTS) :] if isinstance(ref, str) and ref.startswith(_COMPONENTS) else ""
            if implicit and "/" not in implicit and implicit not in targets:
                values.append(implicit.replace("~1", "/").replace("~0", "~"))
            selector = {"type": "object", "required": [name], "properties": {name: {"enum": values}}}
            bound.append({"allOf": [translated, selector]} if values else False)
        if any(branch is not False for branch in bound):
            out = {**out, keyword: bound}
    return out
