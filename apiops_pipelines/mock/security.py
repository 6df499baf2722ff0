"""Does a request carry the credentials an operation requires? A mock checks presence and form only:
any non-empty API key or bearer token passes, a Basic credential must decode to `user:password`.
One satisfied alternative of `security` is enough; an empty alternative lets anyone in."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from typing import Any

Check = Callable[[dict[str, str], dict[str, list[str]], dict[str, str]], bool]  # headers, query, cookies


def _bearer(headers: dict[str, str], query: dict[str, list[str]], cookies: dict[str, str]) -> bool:
    scheme, _, token = headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and bool(token.strip())


def _basic(headers: dict[str, str], query: dict[str, list[str]], cookies: dict[str, str]) -> bool:
    scheme, _, credential = headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return False
    try:
        return b":" in base64.b64decode(credential.strip(), validate=True)
    except (binascii.Error, ValueError):
        return False


def _scheme_check(scheme: dict[str, Any]) -> tuple[Check, str]:
    """The check of one security scheme and the challenge a 401 names it by."""
    kind = scheme.get("type")
    if kind == "apiKey":
        name, where = str(scheme.get("name", "")), scheme.get("in", "header")
        challenge = f'ApiKey in="{where}", name="{name}"'
        if where == "query":
            return (lambda h, q, c: bool(q.get(name, [""])[-1])), challenge
        if where == "cookie":
            return (lambda h, q, c: bool(c.get(name))), challenge
        lowered = name.lower()
        return (lambda h, q, c: bool(h.get(lowered, "").strip())), challenge
    if kind == "http":
        http = str(scheme.get("scheme", "bearer")).lower()
        if http == "basic":
            return _basic, "Basic"
        if http == "bearer":
            return _bearer, "Bearer"
        title = http.capitalize()
        return (lambda h, q, c: h.get("authorization", "").lower().startswith(http + " ")), title
    if kind in ("oauth2", "openIdConnect"):
        return _bearer, "Bearer"
    return (lambda h, q, c: True), ""  # mutualTLS happens below HTTP: nothing a mock can check


class SecurityRequirement:
    def __init__(self, alternatives: tuple[tuple[tuple[str, dict[str, Any]], ...], ...], realm: str) -> None:
        self.alternatives: list[list[Check]] = []
        self.names: list[str] = []
        challenges: list[str] = []
        self.open = not alternatives or any(not alternative for alternative in alternatives)
        for alternative in alternatives:
            checks = []
            for name, scheme in alternative:
                check, challenge = _scheme_check(scheme)
                checks.append(check)
                if challenge and challenge not in challenges:
                    challenges.append(challenge)
                if name not in self.names:
                    self.names.append(name)
            self.alternatives.append(checks)
        realm = realm.replace('"', "'")
        self.challenge = ", ".join(f'{c} realm="{realm}"' if "=" not in c else f'{c}, realm="{realm}"'
                                   for c in challenges) or f'Bearer realm="{realm}"'  # fmt: skip
        self.needs_cookies = any(s.get("in") == "cookie" for a in alternatives for _, s in a)

    def satisfied(self, headers: dict[str, str], query: dict[str, list[str]], cookies: dict[str, str]) -> bool:
        if self.open:
            return True
        return any(all(check(headers, query, cookies) for check in checks) for checks in self.alternatives)
