"""A mismatch found by one of the pact checks, before it is placed (file, line, operation) as a Finding."""

from __future__ import annotations

from typing import NamedTuple

from apiops_pipelines.findings import Severity
from apiops_pipelines.pacts.schemas import SchemaError, json_path

# Values of these never appear in a report: they are credentials.
SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key", "api-key"})


class Problem(NamedTuple):
    rule: str
    severity: Severity
    message: str
    fix: str


def error(rule: str, message: str, fix: str) -> Problem:
    return Problem(rule, "error", message, fix)


def warning(rule: str, message: str, fix: str) -> Problem:
    return Problem(rule, "warning", message, fix)


def describe(errors: list[SchemaError], limit: int = 5) -> str:
    """Schema errors as one sentence: `$.items[0].price: "x" is not of type "number"; ...`."""
    parts = [f"{json_path(e.path)}: {e.message}" if e.path else e.message for e in errors[:limit]]
    if len(errors) > limit:
        parts.append(f"and {len(errors) - limit} more")
    return "; ".join(parts)


def shown(name: str, value: str) -> str:
    """A header or parameter value as a report may show it."""
    return "<redacted>" if name.lower() in SECRET_HEADERS else repr(value if len(value) <= 80 else value[:80] + "…")
