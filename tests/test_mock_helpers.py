"""Shared by the mock tests: the example specs bundled, an in-process HTTP client for the ASGI app, an
independent response validator (openapi-schema-validator, not the mock's own translation), and a large
spec of hard schemas. No tests here."""

from __future__ import annotations

import asyncio
import copy
from pathlib import Path
from typing import Any

import httpx
import openapi_schema_validator as oas
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from apiops_pipelines.specs.documents import DEFAULT_LIMITS
from apiops_pipelines.mock.dialect import escape
from apiops_pipelines.specs.bundle import bundle_spec
from apiops_pipelines.specs.sources import DirectorySource

ESTATE = Path(__file__).resolve().parent.parent / "examples" / "estate"
_BUNDLES: dict[str, dict[str, Any]] = {}


def bundled(name: str) -> dict[str, Any]:
    """examples/estate/<name>/openapi.yaml, bundled as the pipeline bundles it (a fresh copy)."""
    if name not in _BUNDLES:
        _BUNDLES[name] = bundle_spec(DirectorySource(ESTATE, DEFAULT_LIMITS), f"{name}/openapi.yaml").document
    return copy.deepcopy(_BUNDLES[name])


class Client:
    """A synchronous httpx client over the ASGI app, on one event loop."""

    def __init__(self, app: Any) -> None:
        self.loop = asyncio.new_event_loop()
        self.client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://mock")

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        return self.loop.run_until_complete(self.client.request(method, url, **kwargs))

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def close(self) -> None:
        self.loop.run_until_complete(self.client.aclose())
        self.loop.close()


class ResponseSchemas:
    """Validators of a document's response schemas, built by openapi-schema-validator from the document
    itself (references resolve inside it): a check of the mock that does not share its translation."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        resource = Resource.from_contents(document, default_specification=DRAFT202012)
        self.registry = Registry().with_resource("urn:spec", resource)
        v31 = str(document.get("openapi", "")).startswith("3.1")
        self.cls = oas.OAS31Validator if v31 else oas.OAS30ReadValidator
        self.formats = oas.oas31_format_checker if v31 else oas.oas30_format_checker

    def pointer(self, path: str, method: str, status: str, media: str) -> str:
        pointer = f"/paths/{escape(path)}/{method.lower()}/responses/{escape(status)}"
        node = self.document["paths"][path][method.lower()]["responses"][status]
        while "$ref" in node:
            pointer = node["$ref"][1:]
            node = self.document
            for token in pointer.strip("/").split("/"):
                node = node[token.replace("~1", "/").replace("~0", "~")]
        return f"{pointer}/content/{escape(media)}/schema"

    def errors(self, path: str, method: str, status: str, media: str, value: Any) -> list[str]:
        ref = "urn:spec#" + self.pointer(path, method, status, media)
        validator = self.cls({"$ref": ref}, registry=self.registry, format_checker=self.formats)
        return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(value)]


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def hard_schemas(v31: bool) -> dict[str, Any]:
    """Schemas that are hard to generate for: patterns, formats, bounds, composition, recursion."""

    def nullable(schema: dict[str, Any]) -> dict[str, Any]:
        return {"anyOf": [schema, {"type": "null"}]} if v31 else {"allOf": [schema], "nullable": True}

    exclusive_zero = {"exclusiveMinimum": 0} if v31 else {"minimum": 0, "exclusiveMinimum": True}
    s: dict[str, Any] = {
        "Isbn": {"type": "string", "pattern": r"^(?:[0-9]{9}[0-9X]|[0-9]{13})$"},
        "Sku": {"type": "string", "pattern": r"^[A-Z]{2,4}-[0-9]{4}$", "example": "BK-0001"},
        "Password": {"type": "string", "pattern": r"^(?=.*[A-Z])(?=.*[0-9])(?=.*[a-z]).{8,20}$"},
        "Echo": {"type": "string", "pattern": r"^(ab|cd)-\1$"},
        "NoVowels": {"type": "string", "pattern": "^[^aeiouAEIOU]{3,5}$"},
        "Padded": {"type": "string", "pattern": "[0-9]{3}", "minLength": 10, "maxLength": 12},
        "Behind": {"type": "string", "pattern": "^[a-z]{3}(?<=abc)$"},
        "Email": {"type": "string", "format": "email", "maxLength": 40, "pattern": r"@example\.com$"},
        "Stamp": {"type": "string", "format": "date-time"},
        "Day": {"type": "string", "format": "date"},
        "Ident": {"type": "string", "format": "uuid"},
        "Site": {"type": "string", "format": "uri"},
        "Addr": {"type": "string", "format": "ipv4"},
        "Addr6": {"type": "string", "format": "ipv6"},
        "Host": {"type": "string", "format": "hostname", "minLength": 20},
        "Blob": {"type": "string", "format": "byte", "maxLength": 24},
        "Small": {"type": "integer", "format": "int32", "minimum": -5},
        "Big": {"type": "integer", "format": "int64", "maximum": -(2**40)},
        "Price": {"type": "number", "maximum": 100, "multipleOf": 0.25, **exclusive_zero},
        "Fourteen": {"type": "integer", "minimum": 10, "maximum": 20, "multipleOf": 7},
        "Tiny": {"type": "number", **exclusive_zero, "maximum": 0.01, **({"exclusiveMaximum": 0.01} if v31 else {"exclusiveMaximum": True})},
        "Fives": {"type": "integer", "multipleOf": 2.5, "minimum": 1, "maximum": 30},
        "Code": {"type": "string", "minLength": 30, "maxLength": 30},
        "Color": {"type": "string", "enum": ["red", "green", "blue"]},
        "Fixed": {"const": "v1"} if v31 else {"type": "string", "enum": ["v1"]},
        "Trio": {"type": "array", "items": {"type": "string", "enum": ["a", "b", "c"]}, "uniqueItems": True,
                 "minItems": 3, "maxItems": 3},
        "Pair": {"type": "array", "items": {"type": "integer", "minimum": 0}, "minItems": 2, "maxItems": 2},
        "Counts": {"type": "object", "additionalProperties": {"type": "integer", "minimum": 0}, "minProperties": 3},
        "Closed": {"type": "object", "additionalProperties": False, "required": ["a"],
                   "properties": {"a": {"type": "string", "minLength": 2}, "b": {"type": "integer"}}},
        "Base": {"type": "object", "required": ["id"], "properties": {"id": _ref("Ident"), "created": _ref("Stamp")}},
        "Derived": {"allOf": [_ref("Base"), {"type": "object", "required": ["name", "price"], "properties": {
            "name": {"type": "string", "minLength": 1, "maxLength": 20}, "price": _ref("Price")}}]},
        "Either": {"oneOf": [{"type": "integer", "multipleOf": 2}, {"type": "integer", "multipleOf": 3}]},
        "Cat": {"type": "object", "required": ["kind", "lives"], "properties": {
            "kind": {"type": "string", "enum": ["cat"]}, "lives": {"type": "integer", "minimum": 1, "maximum": 9}}},
        "Dog": {"type": "object", "required": ["kind"], "properties": {
            "kind": {"type": "string", "enum": ["dog"]}, "bark": {"type": "string"}}},
        "Pet": {"oneOf": [_ref("Cat"), _ref("Dog")]},
        "Loose": {"oneOf": [{"type": "object", "properties": {"a": {"type": "integer"}}},
                            {"type": "object", "required": ["b"]}]},
        "Some": {"anyOf": [{"type": "string", "format": "date"}, {"type": "integer", "minimum": 100}]},
        "NotBad": {"type": "string", "not": {"enum": ["bad", "worse"]}, "minLength": 3, "maxLength": 5},
        "MaybeBase": nullable(_ref("Base")),
        "Node": {"type": "object", "required": ["value"], "properties": {
            "value": {"type": "integer"}, "children": {"type": "array", "items": _ref("Node")}, "parent": _ref("Node")}},
        "Chain": {"type": ["object", "null"] if v31 else "object", **({} if v31 else {"nullable": True}),
                  "required": ["label", "next"],
                  "properties": {"label": {"type": "string", "maxLength": 8}, "next": _ref("Chain")}},
        "Ping": {"type": "object", "required": ["n"], "properties": {"n": {"type": "integer"}, "pong": _ref("Pong")}},
        "Pong": {"type": "object", "required": ["m", "ping"], "properties": {
            "m": {"type": "string"}, "ping": _ref("Ping")}},
        "Account": {"type": "object", "required": ["user", "password"], "properties": {
            "user": {"type": "string", "minLength": 3}, "password": {"allOf": [_ref("Password")], "writeOnly": True}, "id": {"readOnly": True, "type": "integer"}}},
    }  # fmt: skip
    if v31:
        s.update({
            "Tuple": {"type": "array", "prefixItems": [{"type": "string", "format": "date"}, {"type": "integer"}],
                      "items": False, "minItems": 2},
            "Has": {"type": "array", "items": {"type": "integer", "maximum": 50}, "contains": {"type": "integer", "minimum": 40}},
            "Deps": {"type": "object", "properties": {"card": {"type": "string"}, "cvv": {"type": "string", "pattern": "^[0-9]{3}$"}},
                     "dependentRequired": {"card": ["cvv"]}},
            "Cond": {"type": "object", "required": ["kind"], "properties": {
                "kind": {"enum": ["a", "b"]}, "size": {"type": "integer"}},
                "if": {"properties": {"kind": {"const": "a"}}},
                "then": {"required": ["size"], "properties": {"size": {"minimum": 10}}},
                "else": {"properties": {"size": {"maximum": 0}}}},
            "Optional": {"type": ["string", "null"], "minLength": 2},
            "Keyed": {"type": "object", "patternProperties": {"^x-": {"type": "integer"}}, "required": ["x-count"],
                      "properties": {"x-count": {"type": "integer", "minimum": 5}}},
        })  # fmt: skip
    return s


def hard_spec(version: str = "3.1.0", copies: int = 8) -> dict[str, Any]:
    """One GET per hard schema, and `copies` resources whose object holds all of them at once."""
    v31 = version.startswith("3.1")
    schemas = hard_schemas(v31)
    names = list(schemas)
    problem = {"type": "object", "required": ["type", "title", "status"], "properties": {
        "type": {"type": "string", "format": "uri-reference"}, "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599}}}  # fmt: skip
    components: dict[str, Any] = {
        "schemas": {**schemas, "Problem": problem},
        "responses": {
            "Problem": {
                "description": "a problem",
                "content": {"application/problem+json": {"schema": _ref("Problem")}},
            }
        },
    }
    paths: dict[str, Any] = {}
    for name in names:
        paths[f"/schemas/{name}"] = {"get": {"operationId": f"get{name}", "responses": {
            "200": {"description": name, "content": {"application/json": {"schema": _ref(name)}}},
            "default": {"$ref": "#/components/responses/Problem"}}}}  # fmt: skip
    for index in range(copies):
        resource = f"Thing{index}"
        components["schemas"][resource] = {"type": "object", "required": names,
                                           "properties": {n: _ref(n) for n in names}}  # fmt: skip
        item = {"description": resource, "content": {"application/json": {"schema": _ref(resource)}},
                "headers": {"X-Rate-Limit": {"schema": {"type": "integer", "minimum": 1, "maximum": 10}},
                            "X-Trace": {"schema": _ref("Ident")}}}  # fmt: skip
        paths[f"/things{index}"] = {
            "get": {"parameters": [{"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1}}],
                    "responses": {"200": {"description": "page", "content": {"application/json": {"schema": {
                        "type": "object", "required": ["items"], "properties": {
                            "items": {"type": "array", "maxItems": 3, "items": _ref(resource)},
                            "total": {"type": "integer", "minimum": 0}}}}}},
                        "400": {"$ref": "#/components/responses/Problem"}}},
            "post": {"requestBody": {"required": True, "content": {"application/json": {"schema": _ref(resource)}}},
                     "responses": {"201": item, "422": {"$ref": "#/components/responses/Problem"}}},
        }  # fmt: skip
        paths[f"/things{index}/{{thingId}}"] = {
            "parameters": [{"name": "thingId", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}}],
            "get": {"responses": {"200": item, "404": {"$ref": "#/components/responses/Problem"}}},
            "delete": {"responses": {"204": {"description": "gone"}}},
        }  # fmt: skip
    return {"openapi": version, "info": {"title": "Hard", "version": "1"}, "paths": paths, "components": components}


def operations(document: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """(path, method, status, media) of every documented response body."""
    out = []
    for path, item in document["paths"].items():
        for method, op in item.items():
            if method == "parameters":
                continue
            for status, response in op.get("responses", {}).items():
                while "$ref" in response:
                    response = document["components"]["responses"][response["$ref"].rsplit("/", 1)[1]]
                for media in response.get("content", {}):
                    out.append((path, method.upper(), status, media))
    return out


def valid_request(document: dict[str, Any], path: str, method: str) -> tuple[str, dict[str, Any]]:
    """A request the operation accepts: path parameters from their examples (else 1), credentials for
    its security, the request body's example."""
    item = document["paths"][path]
    op = item[method.lower()]
    params = [*item.get("parameters", []), *op.get("parameters", [])]
    values = {}
    for param in params:
        while "$ref" in param:
            param = document["components"]["parameters"][param["$ref"].rsplit("/", 1)[1]]
        if param["in"] == "path":
            values[param["name"]] = param.get("example", 1)
    url = path.format(**values)
    kwargs: dict[str, Any] = {"headers": {}}
    if op.get("security", document.get("security")):
        kwargs["headers"]["Authorization"] = "Bearer test-token"
    body = op.get("requestBody", {}).get("content", {}).get("application/json")
    if body is not None:
        kwargs["json"] = body["example"]
    return url, kwargs
