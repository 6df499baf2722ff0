"""Built-in functions for servers and security requirements (`oas3-server-variables`,
`oas2-`/`oas3-operation-security-defined`): what a client needs to build a URL and to authenticate.
"""

from __future__ import annotations

import itertools
import re
from typing import Any
from urllib.parse import quote

from apiops_pipelines.lint.registry import Context, Result, register

_VARIABLE = re.compile(r"\{(.+?)\}")
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):(.*)", re.DOTALL)
_HOST = re.compile(r"[A-Za-z0-9._~!$&'()*+,;=-]+|\[[0-9A-Fa-f:.]+\]")
_SPECIAL_SCHEMES = ("http", "https", "ws", "wss", "ftp")
_MAX_URLS = 1000  # substitutions tried per server: enums multiply
_SHOWN_URLS = 5


@register("apiops-server-variables")
def server_variables(server: Any, options: Any, ctx: Context) -> list[Result]:
    """Every {variable} of the url is defined with a default (in its enum), none is unused, and every
    substitution gives a valid absolute URL."""
    if not isinstance(server, dict) or not isinstance(server.get("url"), str):
        return []
    url, variables = server["url"], server.get("variables")
    variables = variables if isinstance(variables, dict) else {}
    used = list(dict.fromkeys(_VARIABLE.findall(url)))
    results: list[Result] = [(f"variable {name} is defined but the url has no {{{name}}}; remove it",
                              ("variables", name)) for name in variables if name not in used]  # fmt: skip
    if not used:
        return results
    missing = [name for name in used if name not in variables]
    if missing:
        results.append((f"the url uses {', '.join('{' + n + '}' for n in missing)} but variables does not "
                        "define them", ("variables",)))  # fmt: skip
    choices = []
    for name in used:
        variable = variables.get(name)
        if not isinstance(variable, dict):
            continue
        enum, default = variable.get("enum"), variable.get("default")
        if "default" not in variable:
            results.append((f"variable {name} has no default; clients need one", ("variables", name)))
        if isinstance(enum, list):
            if default is not None and default not in enum:
                results.append((f"the default of variable {name} is not in its enum", ("variables", name, "default")))
            choices.append((name, [str(v) for v in enum]))
        else:
            choices.append((name, [] if default is None else [str(default)]))
    invalid = _invalid_substitutions(url, choices)
    if invalid:
        shown = ", ".join(invalid[:_SHOWN_URLS]) + (" and more" if len(invalid) > _SHOWN_URLS else "")
        results.append((f"substituting the variables gives invalid URLs: {shown}", ("variables",)))
    return results


def _invalid_substitutions(url: str, choices: list[tuple[str, list[str]]]) -> list[str]:
    if not choices:
        return []
    invalid = []
    names = [name for name, _ in choices]
    for values in itertools.islice(itertools.product(*(values for _, values in choices)), _MAX_URLS):
        substituted = url
        for name, value in zip(names, values, strict=True):
            substituted = substituted.replace("{" + name + "}", quote(value, safe=";,/?:@&=+$-_.!~*'()#"))
        if not _absolute_url(substituted):
            invalid.append(substituted)
            if len(invalid) > _SHOWN_URLS:
                break
    return invalid


def _absolute_url(url: str) -> bool:
    """A URL a client can call as it is: a scheme, and for web schemes a host (and a numeric port)."""
    match = _SCHEME.fullmatch(url)
    if not match:
        return False
    scheme, rest = match.group(1).lower(), match.group(2)
    if scheme not in _SPECIAL_SCHEMES:
        return True
    authority = re.split(r"[/?#\\]", rest.lstrip("/\\"), maxsplit=1)[0].rsplit("@", 1)[-1]
    host, port = (authority.rsplit(":", 1) + [""])[:2] if not authority.endswith("]") else (authority, "")
    return bool(_HOST.fullmatch(host)) and (port == "" or port.isdigit() and int(port) < 65536)


@register("apiops-security-defined")
def security_defined(requirement: Any, options: Any, ctx: Context) -> list[Result]:
    """Each scheme a security requirement names is declared, and each scope it asks for is one the scheme has."""
    if not isinstance(requirement, dict) or not isinstance(ctx.document, dict):
        return []
    document, oas2 = ctx.document, "oas2" in ctx.formats
    components = document.get("components") if isinstance(document.get("components"), dict) else {}
    schemes = document.get("securityDefinitions") if oas2 else components.get("securitySchemes")
    where = "securityDefinitions" if oas2 else "components.securitySchemes"
    results: list[Result] = []
    for name, scopes in requirement.items():
        scheme = ctx.resolve(schemes.get(name)) if isinstance(schemes, dict) else None
        if not isinstance(scheme, dict):
            results.append((f"security scheme {name} is not declared in {where}", (name,)))
            continue
        declared = _scopes(scheme, oas2, ctx.formats)
        if declared is None or not isinstance(scopes, list):
            continue
        for index, scope in enumerate(scopes):
            if scope not in declared:
                results.append((_scope_problem(name, scheme, scope), (name, index)))
    return results


def _scopes(scheme: dict, oas2: bool, formats: frozenset[str]) -> set | None:
    """The scopes a scheme declares; None where any scope goes (OpenID Connect, roles of 3.1)."""
    kind = scheme.get("type")
    if kind == "openIdConnect" or kind != "oauth2" and "oas3.1" in formats:
        return None
    if kind != "oauth2":
        return set()  # the requirement's list must be empty
    if oas2:
        return set(scheme["scopes"]) if isinstance(scheme.get("scopes"), dict) else set()
    flows = scheme.get("flows") if isinstance(scheme.get("flows"), dict) else {}
    return {scope for flow in flows.values() if isinstance(flow, dict) and isinstance(flow.get("scopes"), dict)
            for scope in flow["scopes"]}  # fmt: skip


def _scope_problem(name: str, scheme: dict, scope: Any) -> str:
    if scheme.get("type") != "oauth2":
        return f"scheme {name} is of type {scheme.get('type')}, which takes no scopes; leave its list empty"
    return f"scope {scope} is not among the scopes of security scheme {name}; declare it there or correct it"
