"""Reading one operation into the shared model: path-item parameters merged with the operation's, path
parameters identified by position in the template, `$ref`s followed, inherited security filled in."""

from __future__ import annotations

from typing import Any

from apiops_pipelines.diff.operation_model import (
    TEMPLATE, Body, Header, Operation, Parameter, Response, Security, mapping, media_key,
)  # fmt: skip
from apiops_pipelines.diff.refs import EMPTY, Ref, SpecDocument, escape
from apiops_pipelines.diff.swagger import BodyParameter, swagger_body, swagger_responses, swagger_style


def read_operation(doc: SpecDocument, path: str, item_ref: Ref, method: str) -> Operation:
    item_pointer, item = item_ref
    pointer = f"{item_pointer}/{method}"
    node: dict[str, Any] = item[method]
    names = TEMPLATE.findall(path)
    parameters: dict[tuple[str, str], Parameter] = {}
    body_params: list[BodyParameter] = []
    for use, place, param in _listed_parameters(doc, item_pointer, item, pointer, node):
        location = param.get("in")
        if doc.is_swagger and location in ("body", "formData"):
            body_params.append((use, place, param))
            continue
        parameter = _parameter(doc, use, place, param)
        if location == "path" and parameter.name in names:
            parameters[("path", str(names.index(parameter.name)))] = parameter
        else:
            name = parameter.name.lower() if location == "header" else parameter.name  # header names ignore case
            parameters[(str(location), name)] = parameter
    if doc.is_swagger:
        body, responses = swagger_body(doc, pointer, node, body_params), swagger_responses(doc, pointer, node)
    else:
        body, responses = _openapi_body(doc, pointer, node), _openapi_responses(doc, pointer, node)
    own = "security" in node
    return Operation(
        label=f"{method.upper()} {path}", pointer=pointer,
        operation_id=node.get("operationId") if isinstance(node.get("operationId"), str) else None,
        deprecated=node.get("deprecated") is True, parameters=parameters, body=body, responses=responses,
        security=_security(node["security"] if own else doc.root.get("security")),
        security_pointer=f"{pointer}/security" if own else "/security" if "security" in doc.root else pointer,
    )  # fmt: skip


def _listed_parameters(doc: SpecDocument, item_pointer: str, item: dict[str, Any], pointer: str,
                       node: dict[str, Any]) -> list[BodyParameter]:  # fmt: skip
    """The path item's parameters overridden by the operation's (same in and name)."""
    by_identity: dict[tuple[Any, Any], BodyParameter] = {}
    for owner_pointer, owner in ((item_pointer, item), (pointer, node)):
        listed = owner.get("parameters")
        for i, raw in enumerate(listed if isinstance(listed, list) else ()):
            use = f"{owner_pointer}/parameters/{i}"
            place, param = doc.resolve((use, raw))
            if isinstance(param, dict) and isinstance(param.get("name"), str):
                by_identity[(param.get("in"), param["name"])] = (use, place, param)
    return list(by_identity.values())


def _parameter(doc: SpecDocument, use: str, place: str, param: dict[str, Any]) -> Parameter:
    location = str(param.get("in"))
    if doc.is_swagger:  # the parameter is its own schema
        schema: Ref = (place, param)
        style = swagger_style(location, param.get("collectionFormat", "csv"))
    else:
        schema = _schema_of(place, param)
        default = "form" if location in ("query", "cookie") else "simple"
        style_name = param.get("style") if isinstance(param.get("style"), str) else default
        explode = param.get("explode")
        style = (style_name, explode if isinstance(explode, bool) else style_name == "form")
    return Parameter(
        location=location, name=param["name"], pointer=use,
        required=location == "path" or param.get("required") is True, schema=schema, style=style,
        deprecated=param.get("deprecated") is True,
    )  # fmt: skip


def _schema_of(pointer: str, node: dict[str, Any]) -> Ref:
    """A parameter's or header's schema: `schema`, or the one of its first `content` entry."""
    if "schema" in node:
        return f"{pointer}/schema", node["schema"]
    content = _content(pointer, node.get("content"))
    return next(iter(content.values()), (pointer, EMPTY))


def _content(pointer: str, content: Any) -> dict[str, Ref]:
    found: dict[str, Ref] = {}
    for media, entry in mapping(content).items():
        schema = entry.get("schema", EMPTY) if isinstance(entry, dict) else EMPTY
        found.setdefault(media_key(str(media)), (f"{pointer}/content/{escape(str(media))}/schema", schema))
    return found


def _openapi_body(doc: SpecDocument, pointer: str, node: dict[str, Any]) -> Body | None:
    if "requestBody" not in node:
        return None
    place, body = doc.resolve((f"{pointer}/requestBody", node["requestBody"]))
    if not isinstance(body, dict):
        return None
    return Body(place, body.get("required") is True, _content(place, body.get("content")))


def _openapi_responses(doc: SpecDocument, pointer: str, node: dict[str, Any]) -> dict[str, Response]:
    responses: dict[str, Response] = {}
    for status, raw in mapping(node.get("responses")).items():
        place, response = doc.resolve((f"{pointer}/responses/{escape(str(status))}", raw))
        if not isinstance(response, dict):
            continue
        headers: dict[str, Header] = {}
        for name, raw_header in mapping(response.get("headers")).items():
            header_place, header = doc.resolve((f"{place}/headers/{escape(str(name))}", raw_header))
            if isinstance(header, dict):
                required = header.get("required") is True
                headers[str(name).lower()] = Header(str(name), header_place, required, _schema_of(header_place, header))
        responses[str(status).upper()] = Response(place, _content(place, response.get("content")), headers)
    return responses


def _security(listed: Any) -> Security | None:
    if not isinstance(listed, list) or not listed:
        return None
    alternatives = [
        {str(name): frozenset(map(str, scopes)) if isinstance(scopes, list) else frozenset()
         for name, scopes in requirement.items()}
        for requirement in listed if isinstance(requirement, dict)
    ]  # fmt: skip
    return alternatives or None
