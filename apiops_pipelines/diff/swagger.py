"""Swagger 2.0 read as OpenAPI 3: `in: body` and `formData` parameters become a request body (the form
fields its properties), `consumes`/`produces` its media types, `collectionFormat` a parameter style.
A spec migrated from 2.0 to 3.x without changing the API therefore diffs to nothing."""

from __future__ import annotations

from typing import Any

from apiops_pipelines.diff.operation_model import Body, Header, Response, mapping, media_key
from apiops_pipelines.diff.refs import EMPTY, Ref, SpecDocument, escape
from apiops_pipelines.diff.schema_view import SchemaView

_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
BodyParameter = tuple[str, str, dict[str, Any]]  # (where the operation lists it, where it is defined, node)


def swagger_style(location: str, collection_format: object) -> tuple[str, bool]:
    if collection_format == "multi":
        return "form", True
    named = {"ssv": "spaceDelimited", "pipes": "pipeDelimited", "tsv": "tabDelimited"}.get(str(collection_format))
    return named or ("form" if location in ("query", "cookie") else "simple"), False


def _media(doc: SpecDocument, node: dict[str, Any], key: str) -> tuple[str, ...]:
    listed = node.get(key, doc.root.get(key))
    return tuple(media_key(str(m)) for m in listed) if isinstance(listed, list) and listed else ("application/json",)


def swagger_body(doc: SpecDocument, pointer: str, node: dict[str, Any], params: list[BodyParameter]) -> Body | None:
    consumes = _media(doc, node, "consumes")
    for use, place, param in params:
        if param.get("in") == "body":
            schema = (f"{place}/schema", param.get("schema", EMPTY))
            return Body(use, param.get("required") is True, {media: schema for media in consumes})
    if not params:
        return None
    # formData: one object schema whose properties are the fields; its view is made here, not read.
    view = SchemaView(f"{pointer}/parameters", types=frozenset({"object"}))
    view.properties = {param["name"]: (place, param) for _, place, param in params}
    view.required = frozenset(param["name"] for _, _, param in params if param.get("required") is True)
    doc.views[view.pointer] = view
    forms = tuple(m for m in consumes if m in _FORM_TYPES)
    has_file = any(param.get("type") == "file" for _, _, param in params)
    media = forms or ((_FORM_TYPES[1],) if has_file else (_FORM_TYPES[0],))
    fields: Ref = (view.pointer, [param for _, _, param in params])
    return Body(view.pointer, bool(view.required), {m: fields for m in media})


def swagger_responses(doc: SpecDocument, pointer: str, node: dict[str, Any]) -> dict[str, Response]:
    produces = _media(doc, node, "produces")
    responses: dict[str, Response] = {}
    for status, raw in mapping(node.get("responses")).items():
        place, response = doc.resolve((f"{pointer}/responses/{escape(str(status))}", raw))
        if not isinstance(response, dict):
            continue
        content = {m: (f"{place}/schema", response["schema"]) for m in produces} if "schema" in response else {}
        headers: dict[str, Header] = {}
        for name, header in mapping(response.get("headers")).items():
            if isinstance(header, dict):  # a 2.0 header is its own schema
                header_pointer = f"{place}/headers/{escape(str(name))}"
                headers[str(name).lower()] = Header(str(name), header_pointer, False, (header_pointer, header))
        responses[str(status).upper()] = Response(place, content, headers)
    return responses
