"""Built-in `apiops-*` functions for the OWASP API security rules: which operations are secured, and how."""

from __future__ import annotations

from typing import Any

from apiops_pipelines.lint.messages import Verbatim
from apiops_pipelines.lint.oas_functions import _prepare_codes, any_code_matches
from apiops_pipelines.lint.regexes import JsRegex
from apiops_pipelines.lint.registry import Context, Result, register


def effective_security(operation: dict, ctx: Context) -> Any:
    """The operation's own `security`, else the document's: what a client must present to call it."""
    if "security" in operation:
        return operation["security"]
    return ctx.document.get("security") if isinstance(ctx.document, dict) else None


def is_secured(operation: dict, ctx: Context) -> bool:
    """At least one requirement, and none of them `{}` (which would make authentication optional)."""
    security = effective_security(operation, ctx)
    return isinstance(security, list) and bool(security) and all(isinstance(r, dict) and r for r in security)


@register("apiops-security-applied")
def security_applied(operation: Any, options: Any, ctx: Context) -> list[Result]:
    if not isinstance(operation, dict):
        return []
    security = effective_security(operation, ctx)
    if security is None:
        return [("no security requirement applies (none on the operation, none at the top level)", ())]
    if security == []:
        return [("security: [] makes this operation public", ("security",))]
    if isinstance(security, list) and any(isinstance(r, dict) and not r for r in security):
        where = ("security",) if "security" in operation else ()
        return [("an empty requirement {} in security makes authentication optional", where)]
    return []


_ABSENT = object()


@register("apiops-security-schemes-declared")
def security_schemes_declared(document: Any, options: Any, ctx: Context) -> list[Result]:
    """components.securitySchemes or securityDefinitions is a non-empty mapping.

    What the JSON Schema this rule used to give to `schema` meant, without handing the whole document
    to a validator: converting a 13 MB spec for it took 0.6 s and 200 MB.
    """
    if not isinstance(document, dict):
        return []
    components, definitions = document.get("components", _ABSENT), document.get("securityDefinitions", _ABSENT)
    if components is not _ABSENT and (not isinstance(components, dict) or _non_empty(components, "securitySchemes")):
        return []
    if definitions is not _ABSENT and isinstance(definitions, dict) and definitions:
        return []
    return [("no security scheme is declared", ())]


def _non_empty(mapping: dict, key: str) -> bool:
    return isinstance(mapping.get(key), dict) and bool(mapping[key])


@register("apiops-security-schemes-known")
def security_schemes_known(requirements: Any, options: Any, ctx: Context) -> list[Result]:
    """Every scheme a security requirement names is declared (components.securitySchemes / securityDefinitions)."""
    if not isinstance(requirements, list) or not isinstance(ctx.document, dict):
        return []
    document = ctx.document
    components = document.get("components") if isinstance(document.get("components"), dict) else {}
    declared = components.get("securitySchemes") or document.get("securityDefinitions") or {}
    where = "securityDefinitions" if "swagger" in document else "components.securitySchemes"
    return [(f"security scheme {name} is not declared in {where}", (index, name))
            for index, requirement in enumerate(requirements) if isinstance(requirement, dict)
            for name in requirement if not isinstance(declared, dict) or name not in declared]  # fmt: skip


@register("apiops-secured-responses", prepare=_prepare_codes)
def secured_responses(operation: Any, match: JsRegex, ctx: Context) -> list[Result]:
    """On an operation that requires authentication, a response whose status code matches is documented."""
    if not isinstance(operation, dict) or not is_secured(operation, ctx):
        return []
    responses = operation.get("responses")
    found = any_code_matches(responses, match, ctx) if isinstance(responses, dict) else True
    if type(found) is Verbatim:
        return [(found, ("responses",))]
    if found:
        return []
    message = f"the operation requires authentication but documents no response matching /{match.pattern}/"
    return [(message, ("responses",))]
