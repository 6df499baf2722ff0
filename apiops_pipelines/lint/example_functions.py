"""`apiops-valid-examples`: examples that contradict their schema, as lint rules (Spectral's
`oas2-`/`oas3-valid-media-example` and `-valid-schema-example`), tunable like any rule.

The rules use `given: $`: the function walks the document itself (validation/examples.py) instead of a
JSONPath over every node, and the walker with its validators is shared by the media and the schema rule
of one lint run (`Context.cache`).
"""

from __future__ import annotations

from typing import Any

from apiops_pipelines.lint.registry import Context, Result, register
from apiops_pipelines.validation.examples import ExampleCheck

_KINDS = ("media", "schema")


def _prepare_kind(options: Any) -> str:
    if not isinstance(options, dict) or set(options) != {"type"} or options["type"] not in _KINDS:
        raise ValueError("give 'type': media (examples of media types, parameters, headers) or schema "
                         "(example and default of schemas)")  # fmt: skip
    return options["type"]


def example_check(document: Any, ctx: Context) -> ExampleCheck:
    """The document's walker, built once per lint run (a subtree gets its own)."""
    if document is not ctx.document:
        return ExampleCheck(document)
    check = ctx.cache.get("examples")
    if check is None:
        check = ctx.cache["examples"] = ExampleCheck(document)
    return check


@register("apiops-valid-examples", prepare=_prepare_kind)
def valid_examples(document: Any, kind: str, ctx: Context) -> list[Result]:
    if not isinstance(document, dict):
        return []
    check = example_check(document, ctx)
    problems = check.media() if kind == "media" else check.schemas()
    return [(message, _tokens(pointer)) for pointer, message in problems]


def _tokens(pointer: str) -> tuple[str, ...]:
    return tuple(token.replace("~1", "/").replace("~0", "~") for token in pointer.split("/")[1:])
