"""Make an object valid for exactly one branch of a `oneOf`.

Open objects whose properties are all optional overlap: `{"message": "x"}` fits GitHub's `basic-error`
and `repository-rule-violation-error` alike, so no value the generator built for one branch passed the
`oneOf` (PUT /repos/{owner}/{repo}/contents/{path} answered 500 for its 409). A property that another
branch constrains and the chosen one leaves free, set to a value the other branch refuses, tells them
apart (`{"message": "x", "metadata": 0}` is a basic error only).
"""

from __future__ import annotations

from typing import Any

from apiops_pipelines.mock.schema_merge import Impossible

_PROBES: tuple[Any, ...] = (0, "x", True, None, [], {}, 0.5)  # one value of each JSON type


def set_apart(generator: Any, value: Any, chosen: Any, branches: list[Any], index: int) -> Any | None:
    """`value` (valid for `chosen`, the flattened branch `index`) with properties added until no other
    branch accepts it; None when that cannot be done this way."""
    if not isinstance(value, dict):
        return None
    out = dict(value)
    own = chosen.get("properties") or {}
    for other_index, branch in enumerate(branches):
        if other_index == index or not generator.valid(branch, out):
            continue
        other = generator.flat.flatten(branch)
        for name, constraint in (other.get("properties") or {}).items():
            if name in out or name in own:
                continue
            try:
                free = generator.property_schema(chosen, name)  # what the chosen branch lets this name hold
            except Impossible:
                continue
            probe = next((p for p in _PROBES if generator.valid(free, p) and not generator.valid(constraint, p)), None)
            if probe is not None:
                out[name] = probe
                if not generator.valid(branch, out):
                    break
        if generator.valid(branch, out):
            return None
    return out if generator.valid(chosen, out) else None
