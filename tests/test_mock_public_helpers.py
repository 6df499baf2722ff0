"""Shared by the public-spec conformance tests: an independent oracle (openapi-schema-validator working on
the document itself), every documented response read straight from the document, and valid requests
for each operation. No tests here."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

import httpx
import openapi_schema_validator as oas
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from apiops_pipelines.specs.json_pointer import escape
from apiops_pipelines.mock.app import MockApp
from apiops_pipelines.mock.dialect import SchemaTranslator
from apiops_pipelines.mock.generate import SchemaGenerator
from apiops_pipelines.mock.spec import Operation

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
IGNORED_HEADERS = {"accept", "content-type", "authorization"}  # described elsewhere than in parameters


class Oracle:
    """Validators built by openapi-schema-validator from the document itself (a Swagger 2.0 document is
    read as the OpenAPI 3.0 it would be: same schema dialect, `x-nullable` spelled `nullable`)."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.swagger = str(document.get("swagger", "")).startswith("2.")
        if self.swagger:
            document = json.loads(json.dumps({**document, "openapi": "3.0.3"}).replace('"x-nullable"', '"nullable"'))
        self.document = document
        resource = Resource.from_contents(document, default_specification=DRAFT202012)
        self.registry = Registry().with_resource("urn:spec", resource)
        v31 = str(document.get("openapi", "")).startswith("3.1")
        self.read = oas.OAS31Validator if v31 else oas.OAS30ReadValidator
        self.write = oas.OAS31Validator if v31 else oas.OAS30WriteValidator
        self.formats = oas.oas31_format_checker if v31 else oas.oas30_format_checker

    def node(self, pointer: str) -> tuple[str, Any]:
        """The node at a pointer, following `$ref`s, and the pointer where it really is."""
        node: Any = self.document
        for token in pointer.strip("/").split("/"):
            token = token.replace("~1", "/").replace("~0", "~")
            node = node[int(token)] if isinstance(node, list) else node[token]
        for _ in range(16):
            if not (isinstance(node, dict) and "$ref" in node):
                break
            pointer = node["$ref"][1:]
            node = self.node(pointer)[1]
        return pointer, node

    def errors(self, pointer: str, value: Any, *, response: bool = True) -> list[str]:
        cls = self.read if response else self.write
        validator = cls({"$ref": "urn:spec#" + pointer}, registry=self.registry, format_checker=self.formats)
        return [f"{list(e.absolute_path)}: {e.message}"[:300] for e in validator.iter_errors(value)]


@dataclass(frozen=True)
class Documented:
    """One documented response body: where its schema is and how to ask for it."""

    path: str
    method: str
    status: str
    media: str
    schema: str | None  # a JSON pointer into the oracle's document; None: no schema
    response: str  # pointer of the response object

    @property
    def code(self) -> int:
        return int(self.status) if self.status.isdigit() else 500 if self.status == "default" else int(self.status[0]) * 100


def documented(oracle: Oracle, original: dict[str, Any]) -> list[Documented]:
    """Every (operation, status, media type) with a body the document describes, read straight from it."""
    out = []
    for path, item in original["paths"].items():
        for method in METHODS:
            op = item.get(method)
            if not isinstance(op, dict):
                continue
            base = f"/paths/{escape(path)}/{method}"
            for status in op.get("responses", {}):
                pointer, response = oracle.node(f"{base}/responses/{escape(str(status))}")
                if oracle.swagger:
                    produces = op.get("produces") or original.get("produces") or ["application/json"]
                    medias = [(m, f"{pointer}/schema" if "schema" in response else None) for m in produces]
                    medias = medias if "schema" in response else [(None, None)]
                else:
                    content = response.get("content") or {}
                    medias = [(m, f"{pointer}/content/{escape(m)}/schema" if "schema" in (c or {}) else None)
                              for m, c in content.items()] or [(None, None)]  # fmt: skip
                for media, schema in medias:
                    out.append(Documented(path, method.upper(), str(status), media or "", schema, pointer))
    return out


class Requests:
    """Valid requests for each operation: path, query and header values generated from the parameter
    schemas, credentials for the first security alternative, and a body generated from its schema."""

    def __init__(self, app: MockApp) -> None:
        self.translator = SchemaTranslator(app.spec.document, app.spec.dialect)
        self.base = app.spec.base_path

    def value(self, schema: Any, key: str) -> Any:
        return SchemaGenerator(self.translator.translate(schema, "request", key)).generate(key)

    def build(self, op: Operation, skip: str | None = None, every: bool = False) -> tuple[str, dict[str, Any]]:
        """A valid request: required parameters (`every`: all of them) but `skip`, credentials, a body."""
        url, query, headers = op.path, [], {}
        for param in op.parameters:
            wanted = (param.required or every) and param.name != skip and param.name.lower() not in IGNORED_HEADERS
            if not wanted and param.location != "path":
                continue
            value = _text(self.value(param.schema, f"{op.key} {param.name}"))
            if param.location == "path":
                url = url.replace("{" + param.name + "}", httpx.URL("/" + value).raw_path.decode()[1:])
            elif param.location == "query":
                query.append((param.name, value))
            elif param.location == "header":
                headers[param.name] = value
            else:
                headers["cookie"] = f"{headers.get('cookie', '') + '; ' if 'cookie' in headers else ''}{param.name}={value}"
        headers.update(credentials(op))
        kwargs: dict[str, Any] = {"headers": headers, "params": query}
        if op.request_body is not None and op.request_body.content:
            media = next((m for m in op.request_body.content.values() if "json" in m.name),
                         next(iter(op.request_body.content.values())))  # fmt: skip
            if "json" in media.name:
                body = self.value(media.schema if media.schema is not None else {}, f"{op.key} body")
                kwargs["content"] = json.dumps(body).encode()
            elif media.name == "application/x-www-form-urlencoded" and media.schema is not None:
                form = self.value(media.schema, f"{op.key} form")
                pairs = [(k, _text(i)) for k, v in form.items() for i in (v if isinstance(v, list) else [v])]
                kwargs["content"] = str(httpx.QueryParams(pairs)).encode()
            else:
                kwargs["content"] = b"mock upload"
            headers["content-type"] = media.name if "*" not in media.name else "application/octet-stream"
        return self.base + url, kwargs


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(_text(v) for v in value)
    if isinstance(value, (dict, type(None))):
        return json.dumps(value)
    return str(value)


def credentials(op: Operation) -> dict[str, str]:
    if not op.security or any(not alternative for alternative in op.security):
        return {}
    headers = {}
    for _, scheme in op.security[0]:
        kind = scheme.get("type")
        if kind == "apiKey" and scheme.get("in", "header") == "header":
            headers[str(scheme["name"])] = "test-key"
        elif kind == "http" and str(scheme.get("scheme", "")).lower() == "basic":
            headers["authorization"] = "Basic " + base64.b64encode(b"user:pass").decode()
        elif kind in ("http", "oauth2", "openIdConnect"):
            headers["authorization"] = "Bearer test-token"
    return headers


@dataclass(frozen=True)
class RawOperation:
    """An operation read straight from the document (references followed), for counts that do not come
    from the mock's own parser: a parameter it drops would still be counted here."""

    path: str
    method: str
    node: dict[str, Any]
    parameters: tuple[dict[str, Any], ...]  # the path item's and the operation's, the operation's winning
    security: tuple[dict[str, Any], ...]  # the requirement alternatives in force

    @property
    def secured(self) -> bool:
        return bool(self.security) and all(self.security)

    def schema_type(self, param: dict[str, Any], oracle: Oracle) -> Any:
        schema = param if oracle.swagger else param.get("schema") or {}
        while isinstance(schema, dict) and "$ref" in schema:
            schema = oracle.node(schema["$ref"][1:])[1]
        return schema.get("type") if isinstance(schema, dict) else None


def raw_operations(oracle: Oracle) -> list[RawOperation]:
    out = []
    document = oracle.document
    for path, item in document["paths"].items():
        _, item = oracle.node(f"/paths/{escape(path)}")
        for method in METHODS:
            op = item.get(method)
            if not isinstance(op, dict):
                continue
            merged: dict[tuple[str, str], dict[str, Any]] = {}
            for place in (f"/paths/{escape(path)}/parameters", f"/paths/{escape(path)}/{method}/parameters"):
                for index in range(len(oracle.node(place)[1]) if _exists(document, place) else 0):
                    _, param = oracle.node(f"{place}/{index}")
                    merged[(param.get("in"), param.get("name"))] = param
            security = op.get("security", document.get("security")) or []
            out.append(RawOperation(path, method.upper(), op, tuple(merged.values()), tuple(security)))
    return out


def _exists(document: dict[str, Any], pointer: str) -> bool:
    node: Any = document
    for token in pointer.strip("/").split("/"):
        token = token.replace("~1", "/").replace("~0", "~")
        if not isinstance(node, dict) or token not in node:
            return False
        node = node[token]
    return isinstance(node, list)
