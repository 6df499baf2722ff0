"""Whether a pact request carries the credentials its operation requires.

A missing credential is a warning, not an error: consumer pacts often leave tokens out (the provider's
verification injects them), but a pact that the provider will answer with 401 deserves a second look.
"""

from __future__ import annotations

from typing import Any

from apiops_pipelines.pacts.problems import Problem, warning
from apiops_pipelines.pacts.routing import Match
from apiops_pipelines.pacts.shapes import Request
from apiops_pipelines.validation.refs import deref


def check_security(document: dict[str, Any], match: Match, request: Request, status: int) -> list[Problem]:
    requirements = match.operation.get("security", document.get("security"))
    if not isinstance(requirements, list) or not requirements or status in (401, 403):
        return []  # nothing required, or the interaction is about being turned away
    components = document.get("components") if isinstance(document.get("components"), dict) else {}
    schemes = components.get("securitySchemes") or document.get("securityDefinitions")
    schemes = schemes if isinstance(schemes, dict) else {}
    alternatives: list[str] = []
    for requirement in requirements:
        if not isinstance(requirement, dict):
            continue
        if not requirement:
            return []  # an empty requirement makes credentials optional
        missing = [name for name in requirement if not _present(deref(document, schemes.get(name))[0], request)]
        if not missing:
            return []
        alternatives.append(" and ".join(_describe(name, deref(document, schemes.get(name))[0]) for name in missing))
    if not alternatives:
        return []
    return [warning("pact-credential-missing",
                    f"{match.label} requires {' or '.join(alternatives)}, which the request does not send",
                    "add the credential to the consumer's request (a placeholder will do: the provider "
                    "verification injects a real one), or make the operation's security optional with `- {}`",
                    )]  # fmt: skip


def _present(scheme: Any, request: Request) -> bool:
    if not isinstance(scheme, dict):
        return True  # an undefined scheme is the spec validation's to report
    kind = scheme.get("type")
    if kind == "apiKey":
        name, where = str(scheme.get("name", "")), scheme.get("in")
        if where == "query":
            return name in request.query
        if where == "cookie":
            cookies = request.headers.get("Cookie") or ""
            return any(part.strip().split("=", 1)[0] == name for part in cookies.split(";"))
        return name in request.headers
    if kind in ("http", "basic", "oauth2", "openIdConnect"):
        value = request.headers.get("Authorization")
        expected = "basic" if kind == "basic" else str(scheme.get("scheme", "")).lower() if kind == "http" else ""
        return bool(value) and (not expected or value.lower().startswith(expected + " "))
    return True  # mutualTLS and the like are not visible in a pact


def _describe(name: str, scheme: Any) -> str:
    if not isinstance(scheme, dict):
        return f"'{name}'"
    kind = scheme.get("type")
    if kind == "apiKey":
        return f"the {scheme.get('in', 'header')} '{scheme.get('name')}' ({name})"
    if kind == "http":
        return f"{scheme.get('scheme', 'http')} credentials in Authorization ({name})"
    if kind == "basic":
        return f"basic credentials in Authorization ({name})"
    return f"a token in Authorization ({name})"
