"""An independent oracle for the mock's request side: Schemathesis generates valid requests from the document
(its examples, its coverage phase's boundary values and its fuzzing phase's random ones, positive mode only)
and judges the answers with its own conformance checks, over HTTP, against the mock really serving.

Nothing here comes from the mock: not its parsed operations, not its schema translation, not its generator.
A parameter the mock's parser drops is still sent, and a request the mock wrongly refuses shows as a refused
valid request. No tests here.
"""

from __future__ import annotations

import base64
import copy
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import hypothesis
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis import GenerationMode
from schemathesis.checks import (content_type_conformance, not_a_server_error, response_headers_conformance,
                                 response_schema_conformance, status_code_conformance)  # fmt: skip
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.generation.meta import TestPhase

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]  # fmt: skip


@dataclass
class Verdicts:
    """What the positive cases met: per operation, how many were sent; every failed check and every valid
    request the mock refused, with the request that shows it."""

    sent: Counter[str] = field(default_factory=Counter)  # "GET /path" -> requests
    failures: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)

    @property
    def operations(self) -> set[str]:
        return set(self.sent)


def listed_operations(document: dict[str, Any]) -> set[str]:
    """Every operation the document lists, read straight from it ("GET /path")."""
    return {f"{method.upper()} {path}" for path, item in (document.get("paths") or {}).items()
            if isinstance(item, dict) for method in METHODS if isinstance(item.get(method), dict)}  # fmt: skip


def base_path(document: dict[str, Any]) -> str:
    """Where the document's paths start on its server: basePath (Swagger 2.0), or servers[0]'s path."""
    if "swagger" in document:
        return str(document.get("basePath") or "").rstrip("/")
    servers = document.get("servers") or [{}]
    return urlsplit(str(servers[0].get("url") or "")).path.rstrip("/")


def for_schemathesis(document: dict[str, Any]) -> dict[str, Any]:
    """The document as Schemathesis should read it. An OpenAPI 3.1 schema is JSON Schema 2020-12, where
    `nullable` is no keyword at all (the mock ignores it, as the dialect says); Schemathesis reads it as 3.0
    did and would send nulls the document does not allow. Dropping it changes nothing in 3.1's meaning."""
    if not str(document.get("openapi", "")).startswith("3.1"):
        return copy.deepcopy(document)

    def strip(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: strip(v) for k, v in node.items() if not (k == "nullable" and isinstance(v, bool))}
        if isinstance(node, list):
            return [strip(v) for v in node]
        return node

    return strip(document)


def credentials(document: dict[str, Any], operation: dict[str, Any]) -> dict[str, str]:
    """Headers satisfying the operation's first security alternative, from the document's own schemes (the
    mock checks that credentials are present, not which)."""
    swagger = "swagger" in document
    schemes = (document.get("securityDefinitions") if swagger else (document.get("components") or {})
               .get("securitySchemes")) or {}  # fmt: skip
    requirements = operation.get("security", document.get("security")) or []
    if not requirements or any(not alternative for alternative in requirements):
        return {}
    headers: dict[str, str] = {}
    for name in requirements[0]:
        scheme = schemes.get(name) or {}
        kind = scheme.get("type")
        if kind == "apiKey" and scheme.get("in") == "header":
            headers[str(scheme["name"])] = "test-key"
        elif kind == "basic" or (kind == "http" and str(scheme.get("scheme", "")).lower() == "basic"):
            headers["Authorization"] = "Basic " + base64.b64encode(b"user:pass").decode()
        elif kind in ("http", "oauth2", "openIdConnect"):
            headers["Authorization"] = "Bearer test-token"
    return headers


def run_positive_cases(document: dict[str, Any], base_url: str, *, max_examples: int = 5,
                       seed: int = 0) -> Verdicts:  # fmt: skip
    """Positive cases for every operation of `document` against the mock at `base_url` (with the document's
    base path), judged by Schemathesis's checks; a valid request answered 4xx where the operation documents a
    2xx is `refused`. Deterministic for a seed."""
    schema = schemathesis.openapi.from_dict(for_schemathesis(document))
    verdicts = Verdicts()
    with requests.Session() as session:
        for result in schema.get_all_operations():
            operation = result.ok()  # an operation Schemathesis cannot read fails the test here
            judge = _Judge(operation, credentials(document, operation.definition.raw), base_url, session, verdicts)
            for phase in (TestPhase.EXAMPLES, TestPhase.FUZZING):
                strategy = operation.as_strategy(GenerationMode.POSITIVE, phase=phase)
                run = settings(max_examples=max_examples, derandomize=True, database=None, deadline=None,
                               suppress_health_check=list(HealthCheck), phases=[Phase.generate],
                               )(hypothesis.given(case=strategy)(judge.__call__))  # fmt: skip
                hypothesis.seed(seed)(run)()
            generation = schema.config.generation_for(operation=operation, phase="coverage")
            for case in schema.iter_coverage_cases(operation, generation_modes=[GenerationMode.POSITIVE],
                                                   generation_config=generation):  # fmt: skip
                judge(case)
    return verdicts


class _Judge:
    """Sends one case and records what Schemathesis's checks, and the operation's documented success, say."""

    def __init__(self, operation: Any, headers: dict[str, str], base_url: str, session: requests.Session,
                 verdicts: Verdicts) -> None:  # fmt: skip
        self.operation, self.headers, self.base_url, self.session, self.verdicts = (
            operation, headers, base_url, session, verdicts)
        self.succeeds = any(str(s).startswith("2") for s in operation.definition.raw.get("responses") or {})

    def __call__(self, case: schemathesis.Case) -> None:
        response = case.call(base_url=self.base_url, session=self.session, headers=self.headers, timeout=30)
        label, verdicts = self.operation.label, self.verdicts
        verdicts.sent[label] += 1
        verdicts.statuses[response.status_code] += 1
        shown = f"{label}: {case.method} {response.request.url} -> {response.status_code} {response.text[:300]}"
        if self.succeeds and 400 <= response.status_code < 500:
            verdicts.refused.append(shown)
        try:
            case.validate_response(response, checks=CHECKS, headers=self.headers)
        except (FailureGroup, Failure) as failed:
            for failure in getattr(failed, "exceptions", [failed]):
                if not response.content and "Content-Type" in failure.title:
                    continue  # no content, so no type to declare (RFC 9110 8.3); Swagger's `produces` says nothing
                verdicts.failures.append(f"{failure.title}: {shown}\n{failure.message[:400]}")
