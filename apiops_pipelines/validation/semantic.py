"""What the official schema cannot express and no document can do without: `$ref`s that resolve."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from apiops_pipelines.findings import Finding
from apiops_pipelines.specs.info import HTTP_METHODS  # noqa: F401  (read from here by pacts/)
from apiops_pipelines.validation.refs import containers, deref, pointer_get, pointer_of

_DATA_KEYS = frozenset({"example", "examples", "default", "enum", "const"})  # values, where a $ref is no reference


def _unresolved_refs(document: dict) -> Iterator[Finding]:
    verdicts: dict[str, str | None] = {}  # a big spec repeats the same few thousand refs tens of thousands of times
    for node, chain in containers(document, _DATA_KEYS):
        ref = node.get("$ref") if type(node) is dict else None
        if not isinstance(ref, str):
            continue
        if ref not in verdicts:
            verdicts[ref] = _ref_problem(document, node, ref)
        problem = verdicts[ref]
        if problem == "ref-external":
            yield Finding("ref-external", "error", pointer_of(chain), f"'{ref}' points outside the document",
                          fix="bundle the spec (apiops bundle) or use a local #/ reference")  # fmt: skip
        elif problem == "ref-unresolved":
            yield Finding("ref-unresolved", "error", pointer_of(chain), f"'{ref}' does not resolve",
                          fix="point it at an existing definition")  # fmt: skip
        elif problem == "ref-cycle":
            yield Finding("ref-cycle", "error", pointer_of(chain), f"'{ref}' leads only to references, in a circle",
                          fix="make one of the references in the circle an actual definition")  # fmt: skip


def _ref_problem(document: dict, node: dict, ref: str) -> str | None:
    """What is wrong with a `$ref` (the same for every node that holds it), or None."""
    if not ref.startswith("#"):
        return "ref-external"
    if not pointer_get(document, ref[1:])[0]:
        return "ref-unresolved"
    if deref(document, node)[0] is None:
        return "ref-cycle"
    return None


def check_semantics(document: dict[str, Any]) -> list[Finding]:
    """What no ruleset may relax: every `$ref` leads to a definition. Path parameters, unique operationIds,
    duplicate parameters and examples are rules of the ruleset now (`path-params`, ...), tunable as in Spectral."""
    return list(_unresolved_refs(document))
