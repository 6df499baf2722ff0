"""An operation of either spec family in one shape: parameters, request body, responses, security."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from apiops_pipelines.diff.refs import Ref

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
TEMPLATE = re.compile(r"\{([^{}/]*)\}")
Security = list[dict[str, frozenset[str]]]  # alternatives (any one suffices), each: scheme -> scopes


def mapping(value: Any) -> dict[Any, Any]:
    return value if isinstance(value, dict) else {}


def path_key(path: str) -> str:
    """`/books/{id}` and `/books/{bookId}` are one path: only the parameter's name differs."""
    return TEMPLATE.sub("{}", path)


def media_key(media: str) -> str:
    return media.lower().replace(" ", "")


@dataclass(slots=True)
class Parameter:
    location: str
    name: str
    pointer: str  # where the operation lists it
    required: bool
    schema: Ref
    style: tuple[str, bool]  # (style, explode), defaults filled in
    deprecated: bool


@dataclass(slots=True)
class Body:
    pointer: str
    required: bool
    content: dict[str, Ref]  # media type -> schema


@dataclass(slots=True)
class Header:
    name: str
    pointer: str
    required: bool
    schema: Ref


@dataclass(slots=True)
class Response:
    pointer: str
    content: dict[str, Ref]
    headers: dict[str, Header]  # lower-cased name -> header


@dataclass(slots=True)
class Operation:
    label: str  # "GET /books/{bookId}"
    pointer: str
    operation_id: str | None
    deprecated: bool
    parameters: dict[tuple[str, str], Parameter]  # (in, name); path parameters by position: ("path", "0")
    body: Body | None
    responses: dict[str, Response]
    security: Security | None  # None: no security requirement at all
    security_pointer: str  # where the effective requirement is written (the operation's, or the document's)
