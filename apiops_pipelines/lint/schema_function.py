"""The `schema` function: the target validated against a JSON Schema from the ruleset.

jsonschema_rs (Rust, installed with Schemathesis) does the validating, offline: a `$ref` to a remote
schema fails when the ruleset loads instead of fetching anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import jsonschema_rs

from apiops_pipelines.lint.jsvalues import UNDEFINED

_DIALECTS = {
    "auto": jsonschema_rs.validator_for,
    "draft4": jsonschema_rs.Draft4Validator,
    "draft6": jsonschema_rs.Draft6Validator,
    "draft7": jsonschema_rs.Draft7Validator,
    "draft2019-09": jsonschema_rs.Draft201909Validator,
    "draft2020-12": jsonschema_rs.Draft202012Validator,
}


@dataclass(frozen=True)
class PreparedSchema:
    validator: Any
    all_errors: bool


def prepare_schema(options: Any) -> PreparedSchema:
    if not isinstance(options, dict) or "schema" not in options:
        raise ValueError("give the JSON Schema under functionOptions.schema")
    unknown = set(options) - {"schema", "dialect", "allErrors", "prepareResults"}
    if unknown:
        raise ValueError(f"unknown option '{sorted(unknown)[0]}' (schema takes schema, dialect, allErrors)")
    schema, dialect = options["schema"], options.get("dialect", "auto")
    if not isinstance(schema, (dict, bool)):
        raise ValueError("'schema' must be a JSON Schema (a mapping)")
    if dialect not in _DIALECTS:
        raise ValueError(f"unknown dialect '{dialect}' (use one of {', '.join(_DIALECTS)})")
    try:
        validator = _DIALECTS[dialect](schema, offline=True)
    except (jsonschema_rs.ValidationError, ValueError) as exc:
        first_line = str(exc).strip().splitlines()[0]
        raise ValueError(f"the schema is not valid: {first_line}") from None
    return PreparedSchema(validator, bool(options.get("allErrors", False)))


def run_schema(target: Any, prepared: PreparedSchema, ctx: Any) -> list[tuple[str, tuple]]:
    if target is UNDEFINED:
        return [(f"{ctx.label} is missing", ())]
    if prepared.validator.is_valid(target):
        return []
    results = []
    for error in prepared.validator.iter_errors(target):
        path = tuple(error.instance_path)
        where = "".join(f"/{part}" for part in path)
        results.append((f"{ctx.label}{' at ' + where if where else ''}: {error.message}", path))
        if not prepared.all_errors:
            break
    return results
