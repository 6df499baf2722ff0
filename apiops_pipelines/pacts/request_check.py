"""A pact request's path, query, header and cookie values against the parameters its operation declares."""

from __future__ import annotations

from typing import Any

from apiops_pipelines.pacts.parameters import IGNORED_HEADERS, Parameter, read_text, typed_value
from apiops_pipelines.pacts.problems import Problem, describe, error, shown, warning
from apiops_pipelines.pacts.routing import Match
from apiops_pipelines.pacts.schema_walk import child, expand, types_of
from apiops_pipelines.pacts.shapes import Request
from apiops_pipelines.pacts.spec import Spec

_FIX_VALUE = "send a value the parameter's schema allows, or widen the schema if the provider accepts it"
_FORBIDDING = frozenset({"additionalProperties", "unevaluatedProperties"})


def check_parameters(spec: Spec, match: Match, parameters: list[Parameter], request: Request) -> list[Problem]:
    problems: list[Problem] = []
    for parameter in parameters:
        if parameter.location == "path" and parameter.name in match.path_values:
            problems += invalid_value(spec, parameter, [match.path_values[parameter.name]], "pact-path-param-invalid")
    problems += _query(spec, [p for p in parameters if p.location == "query"], request.query)
    problems += _headers(spec, [p for p in parameters if p.location in ("header", "cookie")], request)
    return problems


def invalid_value(spec: Spec, parameter: Parameter, texts: list[str], rule: str) -> list[Problem]:
    if parameter.schema is None:
        return []
    label = f"{parameter.location} parameter '{parameter.name}'"
    value, why = typed_value(spec.document, parameter, texts)
    if why is not None:
        return [error(rule, f"{label} {why}", _FIX_VALUE)]
    errors = spec.schemas.errors(parameter.schema, value)
    if not errors:
        return []
    if parameter.name.lower() in spec.secrets:  # say what is wrong, never the value
        return [error(rule, f"{label} does not match its schema ({', '.join(e.keyword for e in errors)})", _FIX_VALUE)]
    given = shown(parameter.name, ",".join(texts))
    return [error(rule, f"{label} is {given}, which its schema does not allow: {describe(errors)}", _FIX_VALUE)]


def _missing(rule: str, parameter: Parameter) -> Problem:
    return error(rule, f"{parameter.location} parameter '{parameter.name}' is required but the request does not "
                 "send it", f"send '{parameter.name}' in the consumer's request, or make the parameter optional in "
                 "the spec (a breaking change for consumers that do not send it)")  # fmt: skip


def _query(spec: Spec, declared: list[Parameter], query: dict[str, list[str]]) -> list[Problem]:
    document = spec.document
    # An exploded object parameter (style form) takes its properties as query keys of their own.
    spread = [p for p in declared
              if p.style == "form" and p.delimiter is None and "object" in types_of(document, p.resolved)]  # fmt: skip
    problems: list[Problem] = []
    used: set[str] = set()
    for parameter in declared:
        if parameter in spread:
            continue
        if parameter.style == "deepObject":
            keys = [k for k in query if k.startswith(parameter.name + "[") and k.endswith("]")]
            used.update(keys)
            if keys:
                value = _as_object(document, parameter, {k[len(parameter.name) + 1:-1]: query[k] for k in keys})
                problems += _errors(spec, parameter, value, "pact-query-param-invalid")
            elif parameter.required:
                problems.append(_missing("pact-query-param-missing", parameter))
            continue
        used.add(parameter.name)
        if parameter.name in query:
            problems += invalid_value(spec, parameter, query[parameter.name], "pact-query-param-invalid")
        elif parameter.required:
            problems.append(_missing("pact-query-param-missing", parameter))
    rest = [name for name in query if name not in used]
    if spread:
        return problems + _spread(spec, spread[0], {name: query[name] for name in rest})
    for name in rest:
        problems.append(warning("pact-query-param-unknown", f"query parameter '{name}' is not declared by the "
                                "operation", "declare the parameter in the spec, or drop it from the consumer's "
                                "request (the provider may ignore it or reject it)"))  # fmt: skip
    return problems


def _spread(spec: Spec, parameter: Parameter, texts: dict[str, list[str]]) -> list[Problem]:
    if not texts:
        return [_missing("pact-query-param-missing", parameter)] if parameter.required else []
    value = _as_object(spec.document, parameter, texts)
    errors = spec.schemas.errors(parameter.schema, value) if parameter.schema is not None else []
    forbidden = [e for e in errors if e.keyword in _FORBIDDING]
    problems = [error("pact-query-param-unknown", f"the spec forbids query parameters other than the properties of "
                      f"'{parameter.name}': {describe(forbidden)}", "drop the parameter from the consumer's request, "
                      "or declare it in the spec")] if forbidden else []  # fmt: skip
    others = [e for e in errors if e.keyword not in _FORBIDDING]
    if others:
        problems.append(error("pact-query-param-invalid", f"query parameters of '{parameter.name}' do not match its "
                              f"schema: {describe(others)}", _FIX_VALUE))  # fmt: skip
    return problems


def _as_object(document: dict[str, Any], parameter: Parameter, texts: dict[str, list[str]]) -> dict[str, Any]:
    """Query keys that are the properties of one object parameter, typed by their property schemas."""
    schemas = expand(document, parameter.resolved)
    value: dict[str, Any] = {}
    for name, values in texts.items():
        types = set().union(*(types_of(document, s) for s in child(document, schemas, name)))
        value[name] = read_text(values[-1], types)
    return value


def _errors(spec: Spec, parameter: Parameter, value: object, rule: str) -> list[Problem]:
    errors = spec.schemas.errors(parameter.schema, value) if parameter.schema is not None else []
    if not errors:
        return []
    return [error(rule, f"{parameter.location} parameter '{parameter.name}' does not match its schema: "
                  f"{describe(errors)}", _FIX_VALUE)]  # fmt: skip


def _headers(spec: Spec, declared: list[Parameter], request: Request) -> list[Problem]:
    pairs = (part.strip().split("=", 1) for part in (request.headers.get("Cookie") or "").split(";") if "=" in part)
    cookies = dict(pairs)
    problems: list[Problem] = []
    for parameter in declared:
        if parameter.location == "header" and parameter.name.lower() in IGNORED_HEADERS and not spec.swagger:
            continue
        given = request.headers.get(parameter.name) if parameter.location == "header" else cookies.get(parameter.name)
        if given is None:
            if parameter.required:
                problems.append(_missing("pact-header-missing", parameter))
            continue
        problems += invalid_value(spec, parameter, [given], "pact-header-invalid")
    return problems
