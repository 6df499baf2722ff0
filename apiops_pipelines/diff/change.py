"""What a change between two revisions of a spec is, and the catalogue of every kind the diff reports.

Each kind has one stable id and one level. Schema kinds are written once and placed by where they occur:
the same narrowing of a schema breaks a request (clients send what used to be accepted) and is harmless in
a response (clients receive less than they were ready for), and the widening is the other way round.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Level = Literal["breaking", "non-breaking", "info"]
Direction = Literal["request", "response", "both", "document"]
BREAKING: Level = "breaking"
NON_BREAKING: Level = "non-breaking"
INFO: Level = "info"
LEVELS: tuple[Level, ...] = (BREAKING, NON_BREAKING, INFO)


@dataclass(frozen=True)
class Change:
    id: str  # stable kebab-case id, e.g. request-parameter-removed
    level: Level
    operation: str | None  # "GET /books/{bookId}"; None for document-level changes
    pointer: str  # JSON pointer in the revision (in the base document for removals)
    text: str
    direction: Direction

    @property
    def breaking(self) -> bool:
        return self.level == BREAKING


B, N, I = BREAKING, NON_BREAKING, INFO  # noqa: E741 - the table below reads better with short names

# id -> (level, direction) for everything that is not about a schema's content.
OPERATION_KINDS: dict[str, tuple[Level, Direction]] = {
    "path-removed": (B, "both"),
    "path-added": (N, "both"),
    "operation-removed": (B, "both"),
    "operation-added": (N, "both"),
    "operation-deprecated": (I, "both"),
    "operation-deprecation-removed": (I, "both"),
    "operation-id-changed": (I, "both"),
    "request-parameter-removed": (B, "request"),
    "request-parameter-renamed": (B, "request"),
    "request-required-parameter-added": (B, "request"),
    "request-optional-parameter-added": (N, "request"),
    "request-parameter-became-required": (B, "request"),
    "request-parameter-became-optional": (N, "request"),
    "request-parameter-style-changed": (B, "request"),
    "request-parameter-deprecated": (I, "request"),
    "request-path-parameter-renamed": (I, "request"),
    "request-required-body-added": (B, "request"),
    "request-optional-body-added": (N, "request"),
    "request-body-removed": (B, "request"),
    "request-body-became-required": (B, "request"),
    "request-body-became-optional": (N, "request"),
    "request-content-type-removed": (B, "request"),
    "request-content-type-added": (N, "request"),
    "response-status-removed": (B, "response"),
    "response-success-status-added": (I, "response"),
    "response-status-added": (I, "response"),
    "response-content-type-removed": (B, "response"),
    "response-content-type-added": (N, "response"),
    "response-header-removed": (B, "response"),
    "response-header-added": (N, "response"),
    "response-header-became-optional": (B, "response"),
    "security-added": (B, "request"),
    "security-removed": (I, "request"),
    "security-tightened": (B, "request"),
    "security-loosened": (I, "request"),
    "security-scopes-added": (B, "request"),
    "security-scopes-removed": (I, "request"),
    "security-scheme-changed": (B, "document"),
    "server-removed": (B, "document"),
    "server-added": (N, "document"),
}

# kind -> (level in a request, level in a response). Narrowing breaks requests, widening breaks responses.
SCHEMA_KINDS: dict[str, tuple[Level, Level]] = {
    "type-changed": (B, B),
    "type-widened": (N, B),
    "type-narrowed": (B, N),
    "format-changed": (B, B),
    "format-widened": (N, B),
    "format-narrowed": (B, N),
    "became-nullable": (N, B),
    "became-non-nullable": (B, N),
    "enum-widened": (N, B),
    "enum-narrowed": (B, N),
    "max-length-decreased": (B, N),
    "max-length-increased": (N, B),
    "min-length-increased": (B, N),
    "min-length-decreased": (N, B),
    "maximum-decreased": (B, N),
    "maximum-increased": (N, B),
    "minimum-increased": (B, N),
    "minimum-decreased": (N, B),
    "max-items-decreased": (B, N),
    "max-items-increased": (N, B),
    "min-items-increased": (B, N),
    "min-items-decreased": (N, B),
    "pattern-added": (B, N),
    "pattern-removed": (N, B),
    "pattern-changed": (B, B),
    "property-removed": (B, B),
    "property-added": (N, N),
    "required-property-added": (B, N),
    "property-became-required": (B, N),
    "property-became-optional": (N, B),
    "additional-properties-disallowed": (B, N),
    # Clients are expected to ignore unknown response properties (that is why adding one is fine).
    "additional-properties-allowed": (N, N),
    "variant-removed": (B, N),
    "variant-added": (N, B),
}
# Kinds about an object's properties read as "request-property-removed", not "request-body-property-removed".
_PROPERTY_KINDS = frozenset(k for k in SCHEMA_KINDS if k.startswith(("property-", "required-property-")))

# Where a schema sits: the id prefix at its root, the id prefix below its root, and its direction.
SCHEMA_CONTEXTS: dict[str, tuple[str, str, Direction]] = {
    "parameter": ("request-parameter", "request-parameter", "request"),
    "request-body": ("request-body", "request-property", "request"),
    "response-body": ("response-body", "response-property", "response"),
    "response-header": ("response-header", "response-header", "response"),
}


def schema_change_kind(context: str, kind: str, at_root: bool) -> tuple[str, Level, Direction]:
    """The id, level and direction of schema change `kind` found in a schema used as `context`."""
    root_prefix, nested_prefix, direction = SCHEMA_CONTEXTS[context]
    if kind in _PROPERTY_KINDS and context.endswith("-body"):
        prefix = direction
    else:
        prefix = root_prefix if at_root else nested_prefix
    request_level, response_level = SCHEMA_KINDS[kind]
    return f"{prefix}-{kind}", request_level if direction == "request" else response_level, direction


def catalogue() -> dict[str, tuple[Level, Direction]]:
    """Every id the diff can report, with its level and direction."""
    table = dict(OPERATION_KINDS)
    for context in SCHEMA_CONTEXTS:
        for kind in SCHEMA_KINDS:
            for at_root in (True, False):
                change_id, level, direction = schema_change_kind(context, kind, at_root)
                if not (kind == "required-property-added" and direction == "response"):  # reported as added
                    table[change_id] = (level, direction)
    return table
