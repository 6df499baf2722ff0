"""A pact request's body against the operation's request body (OpenAPI 3) or body/formData parameters (Swagger)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from apiops_pipelines.pacts.bodies import request_body_problems
from apiops_pipelines.pacts.media import assumed, documented
from apiops_pipelines.pacts.parameters import Parameter
from apiops_pipelines.pacts.problems import Problem, error, warning
from apiops_pipelines.pacts.request_check import invalid_value
from apiops_pipelines.pacts.routing import Match
from apiops_pipelines.pacts.schema_walk import listed
from apiops_pipelines.pacts.shapes import Request
from apiops_pipelines.pacts.spec import Spec
from apiops_pipelines.validation.refs import deref, escape

_FIX_TYPE = "send a Content-Type the operation documents, or document this media type in the spec"


def check_request_body(spec: Spec, match: Match, parameters: list[Parameter], request: Request) -> list[Problem]:
    if spec.swagger:
        return _swagger(spec, match, parameters, request)
    raw = match.operation.get("requestBody")
    declared, ref = deref(spec.document, raw) if raw is not None else (None, None)
    present = has_body(request.body)
    if not isinstance(declared, dict):
        return [_unexpected(match)] if present else []
    if not present:
        return [_missing(match)] if declared.get("required") is True else []
    content = declared.get("content") if isinstance(declared.get("content"), dict) else {}
    at = f"{ref or match.pointer + '/requestBody'}/content"
    media = documented(request.content_type, content) if request.content_type else assumed(content, request.body)
    if media is None:
        if request.content_type:
            return [error("pact-request-content-type-undocumented", f"the request's Content-Type "
                          f"{request.content_type!r} is not one {match.label} accepts ({', '.join(content) or 'none'})",
                          _FIX_TYPE)]  # fmt: skip
        return []
    schema = content[media].get("schema") if isinstance(content[media], dict) else None
    if not isinstance(schema, dict):
        return []
    return request_body_problems(spec, f"{at}/{escape(media)}/schema", schema, media, request.body)


def has_body(body: Any) -> bool:
    return body is not None and body != "" and body != b""


def _unexpected(match: Match) -> Problem:
    return warning("pact-request-body-unexpected", f"the request sends a body, but {match.label} documents none",
                   "drop the body from the consumer's request, or document the request body in the spec")  # fmt: skip


def _missing(match: Match) -> Problem:
    return error("pact-request-body-missing", f"{match.label} requires a request body, but the request sends none",
                 "send the body the operation requires, or make the request body optional in the spec")  # fmt: skip


def _swagger(spec: Spec, match: Match, parameters: list[Parameter], request: Request) -> list[Problem]:
    present = has_body(request.body)
    consumes = [str(m) for m in listed(match.operation.get("consumes", spec.document.get("consumes")))]
    content_type = request.content_type
    if present and content_type and consumes and documented(content_type, consumes) is None:
        return [error("pact-request-content-type-undocumented", f"the request's Content-Type {content_type!r} is not "
                      f"one {match.label} consumes ({', '.join(consumes)})", _FIX_TYPE)]  # fmt: skip
    body = next((p for p in parameters if p.location == "body"), None)
    fields = [p for p in parameters if p.location == "formData"]
    if body is not None:
        if not present:
            return [_missing(match)] if body.required else []
        media = content_type or "application/json"
        return request_body_problems(spec, str(body.schema), body.resolved, media, request.body)
    if not fields:
        return [_unexpected(match)] if present else []
    if not present:
        return [_missing(match)] if any(p.required for p in fields) else []
    form: dict[str, list[str]] = {}
    for name, value in parse_qsl(request.body if isinstance(request.body, str) else "", keep_blank_values=True):
        form.setdefault(name, []).append(value)
    problems: list[Problem] = []
    for field in fields:
        if field.name in form:
            problems += invalid_value(spec, field, form[field.name], "pact-request-body-invalid")
        elif field.required:
            problems.append(error("pact-request-body-invalid", f"form field '{field.name}' is required but the request "
                                  "body does not send it", f"send '{field.name}' in the form body"))  # fmt: skip
    return problems
