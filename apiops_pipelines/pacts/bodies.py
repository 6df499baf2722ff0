"""Pact bodies against the spec's schemas: requests in full, responses as the consumer's partial view.

A request body is what the provider will receive, so it must satisfy the schema, `required` included.
A response body in a pact is what the consumer reads: the provider may send more, so no property is
required, and a value under a `type`-like matcher stands for any value of its type. What the consumer
reads must still be promised by the spec: a property the response schema does not declare is a mismatch,
even where the schema lets extras through (as PactFlow judges it), unless the API allows additional
properties in responses, which turns it into a warning.
"""

from __future__ import annotations

from typing import Any

from apiops_pipelines.pacts.matchers import KIND_MATCHERS, governing, kind_problem, path_tokens, values_at
from apiops_pipelines.pacts.media import FORM, essence, form_value, is_json
from apiops_pipelines.pacts.problems import Problem, describe, error, warning
from apiops_pipelines.pacts.schema_walk import listed, schemas_at, types_of, undocumented
from apiops_pipelines.pacts.schemas import SchemaError, full_match, json_path
from apiops_pipelines.pacts.shapes import Matcher
from apiops_pipelines.pacts.spec import Spec

# What a value under a kind matcher (type, integer, ...) does not have to satisfy: it stands for any value.
_VALUE_KEYWORDS = frozenset({"enum", "const", "pattern", "format", "minimum", "maximum", "exclusiveMinimum",
                             "exclusiveMaximum", "multipleOf", "minLength", "maxLength", "uniqueItems",
                             "minProperties", "maxProperties"})  # fmt: skip
_SKIP = object()
_FIX_PACT = "regenerate the pact: an example must satisfy its own matcher"


def body_value(document: dict[str, Any], schema: Any, media: str, body: Any) -> Any:
    """The body as the value its schema describes, or _SKIP for bodies no JSON schema describes."""
    if isinstance(body, bytes):
        return _SKIP
    if essence(media) == FORM and isinstance(body, str):
        return form_value(document, schema, body)
    if is_json(media) or isinstance(body, (dict, list)):
        return body
    return body if isinstance(body, str) and "string" in types_of(document, schema) else _SKIP


def request_body_problems(spec: Spec, pointer: str, schema: Any, media: str, body: Any) -> list[Problem]:
    value = body_value(spec.document, schema, media, body)
    if value is _SKIP:
        return []
    problems: list[Problem] = []
    errors = spec.schemas.errors(pointer, value)
    if errors:
        problems.append(error("pact-request-body-invalid", f"the request body does not match the schema of {media}: "
                              f"{describe(errors)}", "send a body the schema allows, or correct the spec if the "
                              "provider accepts this one"))  # fmt: skip
    extra = undocumented(spec.document, schema, value)
    if extra:
        sent = ", ".join(json_path(p) for p in extra)
        problems.append(warning("pact-request-property-undocumented", f"the request body sends {sent}, which the "
                                f"schema of {media} does not document", "drop the property from the consumer's "
                                "request, or document it"))  # fmt: skip
    return problems


def response_body_problems(spec: Spec, pointer: str, schema: Any, media: str, body: Any,
                           rules: dict[str, tuple[Matcher, ...]], response: str,
                           additional_properties_in_response: bool = False) -> list[Problem]:  # fmt: skip
    """`response` names the documented response, like `GET /orders/{id} 200`, for the fix of a finding."""
    value = body_value(spec.document, schema, media, body)
    if value is _SKIP:
        return []
    problems: list[Problem] = []
    errors = [e for e in spec.schemas.errors(pointer, value, relaxed=True) if not _stands_for_any(e, rules)]
    if errors:
        problems.append(error("pact-response-body-invalid", f"the expected response body does not match the spec's "
                              f"schema for {media}: {describe(errors)}", "expect what the spec documents, or correct "
                              "the spec if the provider really sends this"))  # fmt: skip
    for path in undocumented(spec.document, schema, value, declared_only=True):
        problems.append(_undeclared(path, response, media, additional_properties_in_response))
    problems += _matcher_problems(spec, schema, value, rules)
    return list(dict.fromkeys(problems))


def _undeclared(path: tuple, response: str, media: str, allowed: bool) -> Problem:
    # One finding per property: each gets its own fix, and a report lists them one a line.
    message = (f"the consumer expects {json_path(path)}, which the {media} response schema of {response} does "
               "not declare")  # fmt: skip
    fix = (f"add `{path[-1]}` to the response schema of {response} if the provider really sends it, or stop "
           "expecting it in the consumer's pact (the provider may drop it)")  # fmt: skip
    if allowed:  # the API accepts the risk: shown, not blocking
        return warning("pact-response-property-undocumented", message + " (additional properties in responses are "
                       "allowed for this API)", fix)  # fmt: skip
    return error("pact-response-property-undocumented", message, fix)


def _stands_for_any(found: SchemaError, rules: dict[str, tuple[Matcher, ...]]) -> bool:
    """Does a matcher make this schema error moot (the example stands for other values)?"""
    depth, matchers = governing(rules, found.path)
    if not matchers:
        return False
    if found.keyword in ("minItems", "maxItems"):
        return depth == len(found.path) and any("min" in m or "max" in m for m in matchers)
    return found.keyword in _VALUE_KEYWORDS and all(m.get("match") in KIND_MATCHERS for m in matchers)


def _matcher_problems(spec: Spec, schema: Any, value: Any, rules: dict[str, tuple[Matcher, ...]]) -> list[Problem]:
    problems: list[Problem] = []
    for expression, matchers in rules.items():
        tokens = path_tokens(expression)
        if tokens is None:
            continue
        for path, example in values_at(value, tokens):
            for matcher in matchers:
                why = kind_problem(matcher, example)
                if why is not None:
                    problems.append(error("pact-response-body-invalid", f"{json_path(path)} is {_short(example)}, "
                                          f"but {why}", _FIX_PACT))  # fmt: skip
                if matcher.get("match") == "regex" and isinstance(matcher.get("regex"), str):
                    problems += _regex(spec, schema, expression, path, example, matcher["regex"])
    return problems


def _regex(spec: Spec, schema: Any, expression: str, path: tuple, example: Any, regex: str) -> list[Problem]:
    matched = full_match(regex, example)
    if matched is None:
        return [warning("pact-response-body-invalid", f"the consumer's regex for {expression} cannot be read: "
                        f"{regex!r}", "write the regex in the syntax every pact library reads")]  # fmt: skip
    if not matched:
        return [error("pact-response-body-invalid", f"{json_path(path)} is {_short(example)}, which does not match "
                      f"its own regex {regex!r}", _FIX_PACT)]  # fmt: skip
    documented = [v for s in schemas_at(spec.document, schema, path) for v in listed(s.get("enum")) if isinstance(v, str)]
    rejected = [v for v in dict.fromkeys(documented) if full_match(regex, v) is False]
    if not rejected:
        return []
    return [warning("pact-response-body-invalid", f"the consumer's regex for {expression} rejects values the spec "
                    f"documents: {', '.join(map(repr, rejected))}", "accept every documented value in the consumer "
                    "(the provider may send any of them)")]  # fmt: skip


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:60] + "…"
