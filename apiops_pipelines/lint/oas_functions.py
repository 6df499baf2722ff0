"""Built-in `apiops-*` functions for OpenAPI checks that the core functions cannot express."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote

from apiops_pipelines.lint.doc_index import DocumentIndex
from apiops_pipelines.lint.functions import shown
from apiops_pipelines.lint.messages import Verbatim
from apiops_pipelines.lint.registry import HTTP_METHODS, Context, Result, register
from apiops_pipelines.lint.regexes import JsRegex, RegexTimeout, ruleset_regex

_TEMPLATE = re.compile(r"\{([^{}]*)\}")
_COMPONENT_KINDS = ("schemas", "responses", "parameters", "examples", "requestBodies", "headers", "links",
                    "callbacks", "pathItems")  # fmt: skip  (securitySchemes are used by name, not by $ref)
_OAS2_KINDS = ("definitions", "parameters", "responses")


def _operations(paths: Any, ctx: Context) -> list[tuple[str, str, dict, dict]]:
    if not isinstance(paths, dict):
        return []
    found = []
    for path, item in paths.items():
        item = ctx.resolve(item)
        if isinstance(item, dict):
            found.extend((path, m, item[m], item) for m in HTTP_METHODS if isinstance(item.get(m), dict))
    return found


def _path_parameters(entries: Any, ctx: Context) -> list[tuple[int, dict]]:
    if not isinstance(entries, list):
        return []
    resolved = [(i, ctx.resolve(entry)) for i, entry in enumerate(entries)]
    return [(i, p) for i, p in resolved
            if isinstance(p, dict) and p.get("in") == "path" and isinstance(p.get("name"), str)]  # fmt: skip


@register("apiops-path-params")
def path_params(paths: Any, options: Any, ctx: Context) -> list[Result]:
    """Path templates and `in: path` parameters agree, parameters are required, no two paths collide."""
    if not isinstance(paths, dict):
        return []
    results: list[Result] = []
    shapes: dict[str, str] = {}
    for path, item in paths.items():
        names = _TEMPLATE.findall(path)
        shape = _TEMPLATE.sub("{}", path)
        if shape in shapes:
            results.append((f"{path} and {shapes[shape]} differ only in parameter names; "
                            "a router cannot tell them apart", (path,)))  # fmt: skip
        shapes.setdefault(shape, path)
        for name in {n for n in names if names.count(n) > 1}:
            results.append((f"{path} uses {{{name}}} twice; give each path parameter its own name", (path,)))
        item = ctx.resolve(item)
        if not isinstance(item, dict):
            continue
        shared = _path_parameters(item.get("parameters"), ctx)
        for index, parameter in shared:
            results.extend(_check_declared(path, names, parameter, (path, "parameters", index)))
        methods = [m for m in HTTP_METHODS if isinstance(item.get(m), dict)]
        for method in methods:
            own = _path_parameters(item[method].get("parameters"), ctx)
            for index, parameter in own:
                results.extend(_check_declared(path, names, parameter, (path, method, "parameters", index)))
            declared = {p["name"] for _, p in shared} | {p["name"] for _, p in own}
            for name in dict.fromkeys(names):
                if name not in declared:
                    message = (f"{method.upper()} {path} does not declare its path parameter {{{name}}}; "
                               f"add a parameter with in: path, name: {name}, required: true")  # fmt: skip
                    results.append((message, (path, method)))
    return results


def _check_declared(path: str, names: list[str], parameter: dict, where: tuple) -> list[Result]:
    name = parameter["name"]
    if name not in names:
        return [(f"parameter {name} is declared in: path but {path} has no {{{name}}}; rename it or remove it", where)]
    if parameter.get("required") is not True:
        return [(f"path parameter {name} must have required: true", where)]
    return []


@register("apiops-unique-operation-ids")
def unique_operation_ids(paths: Any, options: Any, ctx: Context) -> list[Result]:
    first: dict[str, str] = {}
    results: list[Result] = []
    for path, method, operation, _ in _operations(paths, ctx):
        operation_id = operation.get("operationId")
        if not isinstance(operation_id, str):
            continue
        if operation_id in first:
            results.append((f"operationId {operation_id} is already used by {first[operation_id]}; "
                            "give every operation its own operationId", (path, method, "operationId")))  # fmt: skip
        first.setdefault(operation_id, f"{method.upper()} {path}")
    return results


@register("apiops-tags-declared")
def tags_declared(document: Any, options: Any, ctx: Context) -> list[Result]:
    if not isinstance(document, dict):
        return []
    tags = document.get("tags")
    declared = {t["name"] for t in tags if isinstance(t, dict) and isinstance(t.get("name"), str)} \
        if isinstance(tags, list) else set()  # fmt: skip
    results: list[Result] = []
    for path, method, operation, _ in _operations(document.get("paths"), ctx):
        used = operation.get("tags")
        for index, tag in enumerate(used if isinstance(used, list) else []):
            if isinstance(tag, str) and tag not in declared:
                results.append((f"tag {tag} is not declared in the top-level tags list",
                                ("paths", path, method, "tags", index)))  # fmt: skip
    return results


@register("apiops-unused-components")
def unused_components(document: Any, options: Any, ctx: Context) -> list[Result]:
    """Reusable objects no `$ref` (or discriminator mapping) points at."""
    if not isinstance(document, dict):
        return []
    index = ctx.evaluator.index if document is ctx.document else DocumentIndex(document)
    targets = {ref for p in index.with_key("$ref") if type(ref := index.values[p]["$ref"]) is str}
    for position in index.with_key("mapping"):  # discriminator mappings name schemas too
        mapping = index.values[position]["mapping"]
        if "propertyName" in index.values[position] and type(mapping) is dict:
            named = [t for t in mapping.values() if type(t) is str]
            targets.update(t if t.startswith("#") else f"#/components/schemas/{t}" for t in named)
    used: set[tuple[str, ...]] = set()
    for target in targets:
        if type(target) is str and target.startswith("#/"):
            parts = tuple(unquote(p).replace("~1", "/").replace("~0", "~") for p in target[2:].split("/")[:3])
            used.update((parts, parts[:2]))
    results: list[Result] = []
    groups = [(("components", kind), document.get("components", {}).get(kind)) for kind in _COMPONENT_KINDS] \
        if isinstance(document.get("components"), dict) else []  # fmt: skip
    if "swagger" in document:
        groups = [((kind,), document.get(kind)) for kind in _OAS2_KINDS]
    for prefix, members in groups:
        for name in members if isinstance(members, dict) else ():
            if prefix + (name,) not in used:
                results.append((f"{'/'.join(prefix[-1:] + (name,))} is never referenced; remove it or $ref it",
                                prefix + (name,)))  # fmt: skip
    return results


def _prepare_codes(options: Any) -> JsRegex:
    if not isinstance(options, dict) or set(options) != {"match"} or not isinstance(options["match"], str):
        raise ValueError("give 'match': a regular expression for the status codes, like '^[23]'")
    return ruleset_regex(options["match"])


def any_code_matches(responses: dict, match: JsRegex, ctx: Context) -> bool | Verbatim:
    """Whether a status code of `responses` matches, or (Verbatim) why that is unknown: the pattern ran out of time."""
    try:
        return any(ctx.search(match, str(code)) for code in responses)
    except RegexTimeout as exc:
        return Verbatim(str(exc))


@register("apiops-response-codes", prepare=_prepare_codes)
def response_codes(responses: Any, match: JsRegex, ctx: Context) -> list[Result]:
    if not isinstance(responses, dict):
        return []
    found = any_code_matches(responses, match, ctx)
    if type(found) is Verbatim:
        return [(found, ())]
    return [] if found else [(f"no response status code matches /{match.pattern}/", ())]


_JSON_TYPES = {
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool) or isinstance(v, float) and v.is_integer(),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "array": lambda v: isinstance(v, list),
    "object": lambda v: isinstance(v, dict),
    "null": lambda v: v is None,
}


@register("apiops-typed-enum")
def typed_enum(schema: Any, options: Any, ctx: Context) -> list[Result]:
    if not isinstance(schema, dict) or not isinstance(schema.get("enum"), list):
        return []
    types = schema.get("type")
    types = [types] if isinstance(types, str) else types if isinstance(types, list) else []
    types = [t for t in types if isinstance(t, str)]
    checks = [_JSON_TYPES[t] for t in types if t in _JSON_TYPES]
    if not checks:
        return []
    nullable = schema.get("nullable") is True or "null" in types
    return [(f"enum value {shown(value)} is not of type {' or '.join(types)}", ("enum", i))
            for i, value in enumerate(schema["enum"])
            if not (value is None and nullable) and not any(check(value) for check in checks)]  # fmt: skip
