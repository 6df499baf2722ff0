"""Validation against the official OpenAPI / Swagger JSON Schema of the document's version."""

from __future__ import annotations

import json
from functools import cache
import importlib.util
from pathlib import Path
from typing import Any

import jsonschema_rs

from apiops_pipelines.findings import Finding
from apiops_pipelines.validation.refs import escape

_SCHEMA_FOLDERS = {"2.0": "v2.0", "3.0": "v3.0", "3.1": "v3.1"}
MAX_STRUCTURAL_FINDINGS = 200


def family(document: dict[str, Any]) -> str | None:
    openapi, swagger = document.get("openapi"), document.get("swagger")
    if isinstance(openapi, str) and openapi[:3] in ("3.0", "3.1"):
        return openapi[:3]
    if str(swagger) in ("2.0", "2"):
        return "2.0"
    return None


@cache
def _validator(version: str) -> Any:
    return jsonschema_rs.validator_for(json.loads(_schema_file(version).read_text(encoding="utf-8")))


def _schema_file(version: str) -> Path:
    """The official schema shipped by openapi-spec-validator, found without importing that package: its
    import pulls in pydantic-settings, requests and more (0.2 s of every `apiops lint`) for one file."""
    spec = importlib.util.find_spec("openapi_spec_validator")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("openapi-spec-validator is not installed (it ships the official schemas)")
    package = Path(next(iter(spec.submodule_search_locations)))
    return package / "resources" / "schemas" / _SCHEMA_FOLDERS[version] / "schema.json"


def _fix_for(message: str) -> str | None:
    if "Additional properties are not allowed" in message or "additional properties" in message.lower():
        return "remove the unexpected key, or prefix it with 'x-' to make it an extension"
    if "is a required property" in message:
        return "add the missing key"
    if "is not valid under any of the" in message:
        return "compare this object with the OpenAPI specification of its kind; a key or value is misplaced"
    return None


def check_structure(document: dict[str, Any]) -> list[Finding]:
    version = family(document)
    if version is None:
        return [Finding("oas-version", "error", "", "no supported 'openapi' (3.0, 3.1) or 'swagger' (2.0) version",
                        fix="start the document with 'openapi: 3.1.0'")]  # fmt: skip
    findings, seen = [], set()
    for error in _validator(version).iter_errors(document):
        pointer = "".join(f"/{escape(str(p))}" for p in error.instance_path)
        if (pointer, error.message) in seen:
            continue
        seen.add((pointer, error.message))
        findings.append(Finding(f"oas{version[0]}-schema", "error", pointer, error.message, _fix_for(error.message)))
        if len(findings) >= MAX_STRUCTURAL_FINDINGS:
            break
    return _deepest(findings)


def _deepest(findings: list[Finding]) -> list[Finding]:
    """A failing `oneOf` also fails every ancestor: keep the most specific finding of each branch."""
    pointers = {f.pointer for f in findings}
    return [f for f in findings if not any(p != f.pointer and p.startswith(f.pointer + "/") for p in pointers)]
