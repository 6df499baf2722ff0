"""Compiled JSON Schema 2020-12 validators: `jsonschema_rs` (Rust, ~0.1 µs for a small instance), and the
pure-Python `jsonschema` for the rare schema it cannot compile (a regex its engine refuses)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jsonschema
import jsonschema_rs

from apiops_pipelines.mock.spec import SpecError

_MAX_MESSAGE = 240


@dataclass(frozen=True)
class SchemaError:
    path: tuple[str | int, ...]  # where in the instance; for a missing property, its would-be place
    message: str


class Validator:
    """`is_valid` is the fast path of every request; `errors` runs only once a request is known bad."""

    __slots__ = ("_errors", "is_valid")

    def __init__(self, is_valid: Callable[[Any], bool], errors: Callable[[Any], list[SchemaError]]) -> None:
        self.is_valid, self._errors = is_valid, errors

    def errors(self, instance: Any, limit: int = 20) -> list[SchemaError]:
        return self._errors(instance)[:limit]


def compile_validator(schema: Any, *, formats: bool = True, where: str = "a schema") -> Validator:
    try:
        compiled = jsonschema_rs.Draft202012Validator(schema, validate_formats=formats)
    except (ValueError, jsonschema_rs.ReferencingError, TypeError):
        return _python_validator(schema, formats, where)
    return Validator(compiled.is_valid, lambda instance: [_rs_error(e) for e in compiled.iter_errors(instance)])


def _rs_error(error: Any) -> SchemaError:
    path = tuple(error.instance_path)
    if type(error.kind).__name__ == "Required":
        return SchemaError((*path, error.kind.property), "is required")
    return SchemaError(path, _short(error.message))


def _python_validator(schema: Any, formats: bool, where: str) -> Validator:
    cls = jsonschema.Draft202012Validator
    try:
        cls.check_schema(schema)
        compiled = cls(schema, format_checker=cls.FORMAT_CHECKER if formats else None)
    except jsonschema.SchemaError as exc:
        raise SpecError(f"{where}: invalid schema ({_short(exc.message)})") from None

    def errors(instance: Any) -> list[SchemaError]:
        out = []
        for error in compiled.iter_errors(instance):
            path = tuple(error.absolute_path)
            if error.validator == "required" and isinstance(error.instance, dict):
                missing = next((p for p in error.validator_value if repr(p) in error.message), None)
                out.append(SchemaError((*path, missing), "is required"))
            else:
                out.append(SchemaError(path, _short(error.message)))
        return out

    return Validator(compiled.is_valid, errors)


def _short(message: str) -> str:
    return message if len(message) <= _MAX_MESSAGE else message[: _MAX_MESSAGE - 1] + "…"
