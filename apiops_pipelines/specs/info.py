"""What a bundled spec is: its format and version, `info.version`, and how many paths and operations."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from apiops_pipelines.specs.documents import DocumentError

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


@dataclass(frozen=True)
class SpecInfo:
    format: str  # "OpenAPI 3.1.0", "Swagger 2.0"
    family: str  # openapi-3.0, openapi-3.1, swagger-2.0
    title: str
    version: str  # info.version
    paths: int
    operations: int


def describe(document: dict[str, Any], source: str) -> SpecInfo:
    """Identify the spec; a document that is no OpenAPI/Swagger spec is an error with the fix."""
    openapi, swagger = document.get("openapi"), document.get("swagger")
    if isinstance(openapi, str) and openapi.startswith(("3.0.", "3.1.")) or openapi in ("3.0", "3.1"):
        family, label = f"openapi-{openapi[:3]}", f"OpenAPI {openapi}"
    elif str(swagger) in ("2.0", "2"):
        family, label = "swagger-2.0", "Swagger 2.0"
    elif openapi is not None:
        raise DocumentError(source, f"OpenAPI version {openapi!r} is not supported", line=1,
                            fix="use 'openapi: 3.0.3' or 'openapi: 3.1.0' (quoted strings)")  # fmt: skip
    else:
        raise DocumentError(source, "not an OpenAPI document: no 'openapi' or 'swagger' key at the top",
                            fix="start the file with 'openapi: 3.1.0' (or 'swagger: \"2.0\"')")  # fmt: skip
    info = document.get("info")
    if not isinstance(info, dict) or info.get("version") in (None, ""):
        raise DocumentError(source, "info.version is missing", fix="add 'info: {title: ..., version: 1.0.0}'")
    paths = document.get("paths") or {}
    if not isinstance(paths, dict):
        raise DocumentError(source, "'paths' must be a mapping of path to path item")
    operations = sum(
        1 for item in paths.values() if isinstance(item, dict) for method in HTTP_METHODS if method in item
    )
    return SpecInfo(label, family, str(info.get("title", "")), str(info["version"]), len(paths), operations)
