"""Read a Swagger 2.0 document into the same operations an OpenAPI 3 document gives.

Body and form parameters become a request body (one media type per `consumes` entry), response schemas
are served under every `produces` type, and `collectionFormat` maps to the OpenAPI 3 styles.
"""

from __future__ import annotations

from typing import Any

from apiops_pipelines.mock.spec import (
    METHODS,
    Header,
    MediaType,
    Operation,
    Parameter,
    RequestBody,
    Response,
    Spec,
    deref,
    media_name,
    merge_parameters,
    security_alternatives,
)  # fmt: skip

_SCHEMA_KEYS = (
    "type", "format", "items", "enum", "default", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum",
    "minLength", "maxLength", "pattern", "minItems", "maxItems", "uniqueItems", "multipleOf", "x-nullable",
)  # fmt: skip
_STYLES = {"csv": ("form", False), "multi": ("form", True), "ssv": ("spaceDelimited", False),
           "pipes": ("pipeDelimited", False), "tsv": ("tabDelimited", False)}  # fmt: skip


def load_swagger2(document: dict[str, Any]) -> Spec:
    schemes = {name: _scheme(deref(document, s)) for name, s in (document.get("securityDefinitions") or {}).items()}
    operations = []
    for path, item in (document.get("paths") or {}).items():
        item = deref(document, item)
        if not isinstance(item, dict):
            continue
        for method in METHODS:
            op = item.get(method)
            if not isinstance(op, dict):
                continue
            params = merge_parameters(document, item.get("parameters") or [], op.get("parameters"))
            consumes = op.get("consumes") or document.get("consumes") or ["application/json"]
            produces = op.get("produces") or document.get("produces") or ["application/json"]
            operations.append(Operation(
                method=method.upper(),
                path=path,
                operation_id=op.get("operationId"),
                parameters=tuple(_parameter(p) for p in params if p.get("in") in ("path", "query", "header")),
                request_body=_request_body(params, consumes),
                responses={
                    str(s): _response(document, str(s), r, produces) for s, r in (op.get("responses") or {}).items()
                },
                security=security_alternatives(op.get("security", document.get("security")), schemes, document,
                                               f"{method.upper()} {path}"),
            ))  # fmt: skip
    base = str(document.get("basePath") or "").strip("/")
    title = str((document.get("info") or {}).get("title") or "mock")
    return Spec("swagger-2.0", document, tuple(operations), "/" + base if base else "", title)


def _scheme(scheme: dict[str, Any]) -> dict[str, Any]:
    if scheme.get("type") == "basic":
        return {"type": "http", "scheme": "basic"}
    return dict(scheme)


def _schema_of(param: dict[str, Any]) -> dict[str, Any]:
    """A non-body parameter carries its schema keywords inline."""
    schema = {key: param[key] for key in _SCHEMA_KEYS if key in param}
    if isinstance(schema.get("items"), dict):
        schema["items"] = _schema_of(schema["items"])
    return schema


def _parameter(param: dict[str, Any]) -> Parameter:
    style, explode = _STYLES.get(param.get("collectionFormat", "csv"), ("form", False))
    if param["in"] in ("path", "header"):
        style, explode = "simple", False
    return Parameter(str(param["name"]), param["in"], bool(param.get("required")) or param["in"] == "path",
                     _schema_of(param), style, explode)  # fmt: skip


def _request_body(params: list[dict[str, Any]], consumes: list[str]) -> RequestBody | None:
    body = next((p for p in params if p.get("in") == "body"), None)
    if body is not None:
        content = {media_name(c): MediaType(media_name(c), body.get("schema", {})) for c in consumes}
        return RequestBody(bool(body.get("required")), content)
    form = [p for p in params if p.get("in") == "formData"]
    if not form:
        return None
    schema = {"type": "object", "properties": {str(p["name"]): _schema_of(p) for p in form},
              "required": [str(p["name"]) for p in form if p.get("required")]}  # fmt: skip
    types = [media_name(c) for c in consumes if "form" in c] or ["application/x-www-form-urlencoded"]
    return RequestBody(any(p.get("required") for p in form), {c: MediaType(c, schema) for c in types})


def _response(document: Any, status: str, response: Any, produces: list[str]) -> Response:
    response = deref(document, response) or {}
    headers = tuple(
        Header(name, False, _schema_of(h), h.get("x-example"), "x-example" in h)
        for name, h in (response.get("headers") or {}).items()
        if isinstance(h, dict) and name.lower() != "content-type"
    )
    if "schema" not in response:
        return Response(status, headers, {})
    examples = {media_name(k): v for k, v in (response.get("examples") or {}).items()}
    content = {
        media_name(c): MediaType(
            media_name(c), response["schema"], examples.get(media_name(c)), media_name(c) in examples
        )
        for c in produces
    }
    return Response(status, headers, content)
