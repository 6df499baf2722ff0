"""A pact's expected response against the operation's documented responses: status, headers, media type, body."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from apiops_pipelines.pacts.bodies import response_body_problems
from apiops_pipelines.pacts.media import assumed, documented
from apiops_pipelines.pacts.parameters import Parameter, typed_value
from apiops_pipelines.pacts.problems import Problem, describe, error, shown, warning
from apiops_pipelines.pacts.request_body import has_body
from apiops_pipelines.pacts.routing import Match
from apiops_pipelines.pacts.schema_walk import listed
from apiops_pipelines.pacts.schemas import full_match
from apiops_pipelines.pacts.shapes import Interaction, Matcher
from apiops_pipelines.pacts.spec import Spec
from apiops_pipelines.validation.refs import deref, escape

# Headers HTTP itself produces; a spec need not document them.
_TRANSPORT = frozenset({"content-type", "content-length", "date", "connection", "keep-alive", "transfer-encoding",
                        "server", "vary"})  # fmt: skip
_FIX_EXPECT = "expect what the spec documents, or correct the spec if the provider really sends this"


def check_response(spec: Spec, match: Match, interaction: Interaction,
                   additional_properties_in_response: bool = False) -> list[Problem]:  # fmt: skip
    status = interaction.response.status
    responses = match.operation.get("responses") if isinstance(match.operation.get("responses"), dict) else {}
    key = status_key(responses, status)
    if key is None:
        statuses = ", ".join(str(k) for k in responses) or "none"
        return [error("pact-response-status-undocumented", f"{match.label} does not document the status {status} "
                      f"(documented: {statuses})", "document the status in the operation's responses, or expect a "
                      "documented one in the consumer")]  # fmt: skip
    declared, ref = deref(spec.document, responses[key])
    if not isinstance(declared, dict):
        return []
    at = ref or f"{match.pointer}/responses/{escape(key)}"
    rules = interaction.response_rules
    problems = _headers(spec, declared, at, interaction, _by_name(rules.get("header", {})))
    # The documented response the body is read against: `GET /orders/{id} 200`, or `... default`.
    response = f"{match.label} {key}"
    problems += _content(spec, match, declared, at, interaction, response, additional_properties_in_response)
    return problems


def status_key(responses: Mapping[str, Any], status: int) -> str | None:
    """The key of `responses` that documents `status`: the code itself, its class ("2XX" or "2xx"), "default";
    None when none does."""
    for key in (str(status), f"{status // 100}XX", f"{status // 100}xx", "default"):
        if key in responses:
            return key
    return None


def _by_name(rules: dict[str, tuple[Matcher, ...]]) -> dict[str, tuple[Matcher, ...]]:
    return {name.lower(): matchers for name, matchers in rules.items()}


def _headers(spec: Spec, declared: dict, at: str, interaction: Interaction,
             rules: dict[str, tuple[Matcher, ...]]) -> list[Problem]:  # fmt: skip
    spec_headers = declared.get("headers") if isinstance(declared.get("headers"), dict) else {}
    documented_headers = {str(n).lower(): (str(n), h) for n, h in spec_headers.items()}
    problems: list[Problem] = []
    for name, value in interaction.response.headers.items():
        lower = name.lower()
        for matcher in rules.get(lower, ()):
            if matcher.get("match") == "regex" and full_match(str(matcher.get("regex")), value) is False:
                problems.append(error("pact-response-header-invalid", f"response header '{name}' is "
                                      f"{shown(name, value)}, which does not match its own regex "
                                      f"{matcher.get('regex')!r}", "regenerate the pact: an example must satisfy its "
                                      "own matcher"))  # fmt: skip
        if lower in _TRANSPORT:
            continue
        if lower not in documented_headers:
            problems.append(warning("pact-response-header-undocumented", f"the consumer expects the response header "
                                    f"'{name}', which the spec does not document for status "
                                    f"{interaction.response.status}", "document the header in the spec's response, "
                                    "or stop expecting it in the consumer"))  # fmt: skip
            continue
        spec_name, raw = documented_headers[lower]
        header, ref = deref(spec.document, raw)
        if isinstance(header, dict):
            problems += _header_value(spec, name, value, header, ref or f"{at}/headers/{escape(spec_name)}")
    return problems


def _header_value(spec: Spec, name: str, value: str, header: dict, pointer: str) -> list[Problem]:
    if spec.swagger:
        inline = {k: v for k, v in header.items() if k != "description"}
        parameter = Parameter(name, "header", False, inline, inline, ",", "simple", pointer)
    elif isinstance(header.get("schema"), dict):
        parameter = Parameter(name, "header", False, f"{pointer}/schema", header["schema"], ",", "simple", pointer)
    else:
        return []
    typed, why = typed_value(spec.document, parameter, [value])
    errors = spec.schemas.errors(parameter.schema, typed) if why is None and parameter.schema is not None else []
    if not errors:
        return []
    return [error("pact-response-header-invalid", f"response header '{name}' is {shown(name, value)}, which the spec "
                  f"does not allow: {describe(errors)}", _FIX_EXPECT)]  # fmt: skip


def _content(spec: Spec, match: Match, declared: dict, at: str, interaction: Interaction, documented_as: str,
             additional_properties_in_response: bool) -> list[Problem]:  # fmt: skip
    response, status = interaction.response, interaction.response.status
    if spec.swagger:
        produces = listed(match.operation.get("produces", spec.document.get("produces")))
        schema = declared.get("schema")
        # Without `produces`, a Swagger response may be of any media type.
        content = {str(m): {"schema": schema} for m in produces or ["*/*"]} if schema is not None else {}
        schema_pointer = lambda media: f"{at}/schema"  # noqa: E731 - one schema for every produced type
    else:
        content = declared.get("content") if isinstance(declared.get("content"), dict) else {}
        schema_pointer = lambda media: f"{at}/content/{escape(media)}/schema"  # noqa: E731
    media = None
    if response.content_type and content:
        media = documented(response.content_type, content) or _allowed_by_regex(interaction, content)
        if media is None:
            return [error("pact-response-content-type-undocumented", f"the expected Content-Type "
                          f"{response.content_type!r} is not one the spec documents for status {status} "
                          f"({', '.join(content)})", _FIX_EXPECT)]  # fmt: skip
    if not has_body(response.body):
        return []
    if not content or (spec.swagger and declared.get("schema") is None):
        return [error("pact-response-body-unexpected", f"the consumer expects a response body, but the spec "
                      f"documents none for status {status}", "document the response body in the spec, or stop "
                      "expecting one")]  # fmt: skip
    media = media or assumed(content, response.body)
    schema = content[media].get("schema") if media and isinstance(content[media], dict) else None
    if not isinstance(schema, dict):
        return []
    return response_body_problems(spec, schema_pointer(media), schema, media, response.body,
                                  interaction.response_rules.get("body", {}), documented_as,
                                  additional_properties_in_response)  # fmt: skip


def _allowed_by_regex(interaction: Interaction, content: dict[str, Any]) -> str | None:
    """With a regex matcher on Content-Type, any documented media type the regex accepts will do."""
    matchers = _by_name(interaction.response_rules.get("header", {})).get("content-type", ())
    regexes = [str(m.get("regex")) for m in matchers if m.get("match") == "regex"]
    for media in content if regexes else ():
        if all(full_match(regex, media) for regex in regexes):
            return media
    return None
