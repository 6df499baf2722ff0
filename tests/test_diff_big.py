"""A big generated spec pair (5,000 operations, a component per resource, self-referencing schemas) diffs
fast and finds exactly the changes planted in it, no more. Run with -s to see the time it took."""

from __future__ import annotations

import json
import time
from typing import Any

from apiops_pipelines.diff import diff_specs

NOTE = "Generated for the diff benchmark; long enough to weigh like a real description. "


def _model(j: int, planted: bool, prose: int) -> dict[str, Any]:
    status = ["draft", "active", "retired"] if not (planted and j == 10) else ["draft", "active"]
    properties: dict[str, Any] = {
        "id": {"type": "string", "format": "uuid", "readOnly": True},
        "name": {"type": "string", "maxLength": 200, "description": NOTE * prose},
        "status": {"type": "string", "enum": status},
        "count": {"type": "integer", "format": "int32", "minimum": 0},
        "price": {"type": "number", "description": NOTE * prose},
        "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 20},
        "created": {"type": "string", "format": "date-time", "readOnly": True},
        "owner": {"$ref": "#/components/schemas/Owner"},
        "parent": {"$ref": f"#/components/schemas/Model{j}"},
        "metadata": {"type": "object", "additionalProperties": {"type": "string"}},
    }
    required = ["name"]
    if planted and j == 14:
        properties["region"] = {"type": "string"}
        required.append("region")
    return {"allOf": [{"$ref": "#/components/schemas/Base"},
                      {"type": "object", "required": required, "properties": properties, "description": NOTE * prose}]}  # fmt: skip


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def generated_spec(resources: int = 1250, planted: bool = False, prose: int = 1) -> dict[str, Any]:
    """`resources` resources of four operations each (list, create, read, delete), each with its own model."""
    paths: dict[str, Any] = {}
    for i in range(resources):
        ref = {"$ref": f"#/components/schemas/Model{i}"}
        limit = {"name": "limit", "in": "query", "required": planted and i == 9, "schema": {"type": "integer", "maximum": 100}}
        offset = {"name": "offset", "in": "query", "schema": {"type": "string" if planted and i == 13 else "integer"}}
        sort = {"name": "sort", "in": "query", "schema": {"type": "string", "enum": ["asc", "desc"]}}
        headers = {} if planted and i == 11 else {"X-Total": {"schema": {"type": "integer"}}}
        scopes = ["write", "admin"] if planted and i == 12 else ["write"]
        collection: dict[str, Any] = {
            "get": {"operationId": f"list{i}", "summary": NOTE * prose, "parameters": [limit, offset, sort],
                    "responses": {"200": {"description": "ok", "headers": headers,
                                          "content": _json({"type": "array", "items": ref})},
                                  "default": {"$ref": "#/components/responses/Error"}}},
            "post": {"operationId": f"create{i}", "security": [{"oauth": scopes}],
                     "requestBody": {"required": True, "content": _json(ref)},
                     "responses": {"201": {"description": "created", "content": _json(ref)},
                                   "default": {"$ref": "#/components/responses/Error"}}},
        }  # fmt: skip
        item: dict[str, Any] = {
            "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}],
            "get": {"operationId": f"read{i}", "description": NOTE * prose,
                    "responses": {"200": {"description": "ok", "content": _json(ref)}, "404": {"$ref": "#/components/responses/Error"}}},
            "delete": {"operationId": f"delete{i}", "responses": {"204": {"description": "gone"}}},
        }  # fmt: skip
        if planted and i == 8:
            item["put"] = {"operationId": "replace8", "requestBody": {"content": _json(ref)}, "responses": {"200": {"description": "ok"}}}
        paths[f"/resources{i}"] = collection
        if not (planted and i == 7):
            paths[f"/resources{i}/{{id}}"] = item
    schemas: dict[str, Any] = {
        "Base": {"type": "object", "properties": {"etag": {"type": "string"}}},
        "Owner": {"type": "object", "properties": {"login": {"type": "string"}, "manager": {"$ref": "#/components/schemas/Owner"}}},
        "Error": {"type": "object", "required": ["code"], "properties": {"code": {"type": "integer"}, "message": {"type": "string"}}},
    }  # fmt: skip
    schemas.update({f"Model{j}": _model(j, planted, prose) for j in range(resources)})
    return {
        "openapi": "3.0.3", "info": {"title": "Generated", "version": "1.0.0"},
        "security": [], "paths": paths,
        "components": {"schemas": schemas, "responses": {"Error": {"description": "error", "content": _json({"$ref": "#/components/schemas/Error"})}},
                       "securitySchemes": {"oauth": {"type": "oauth2", "flows": {}}}},
    }  # fmt: skip


PLANTED = sorted([
    ("path-removed", None),
    ("operation-added", "PUT /resources8/{id}"),
    ("request-parameter-became-required", "GET /resources9"),
    ("response-property-enum-narrowed", "GET /resources10"),
    ("request-property-enum-narrowed", "POST /resources10"),
    ("response-property-enum-narrowed", "POST /resources10"),
    ("response-property-enum-narrowed", "GET /resources10/{id}"),
    ("response-header-removed", "GET /resources11"),
    ("security-scopes-added", "POST /resources12"),
    ("request-parameter-type-changed", "GET /resources13"),
    ("response-property-added", "GET /resources14"),
    ("request-required-property-added", "POST /resources14"),
    ("response-property-added", "POST /resources14"),
    ("response-property-added", "GET /resources14/{id}"),
], key=str)  # fmt: skip


def test_a_big_generated_pair_yields_exactly_the_planted_changes():
    base, revision = generated_spec(), generated_spec(planted=True)
    size = len(json.dumps(revision))
    started = time.perf_counter()
    changes = diff_specs(base, revision)
    elapsed = time.perf_counter() - started
    operations = sum(1 for item in base["paths"].values() for m in item if m != "parameters")
    print(f"\ndiff of {operations} operations ({size / 1e6:.1f} MB of JSON): {elapsed:.2f}s, {len(changes)} changes")
    assert operations == 5000
    assert sorted(((c.id, c.operation) for c in changes), key=str) == PLANTED
    assert next(c for c in changes if c.id == "request-property-enum-narrowed").pointer == (
        "/components/schemas/Model10/allOf/1/properties/status")
    assert diff_specs(base, base) == []
