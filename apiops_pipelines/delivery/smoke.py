"""The smoke pass of a first release: every safe operation once, through the production frontend.

A first release has no stable to compare with, so it gets no canary verdict; it must still answer through
the gateway: each GET of the spec (the load plan's first target: valid parameters) must get a status that
is not a server error and that the spec documents. Bounded: at most 100 operations, 5 s each.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from apiops_pipelines.load.plan import PlanError, plan_from_spec
from apiops_pipelines.pacts.response_check import status_key

MAX_OPERATIONS = 100
TIMEOUT_S = 5.0


@dataclass(frozen=True)
class SmokeResult:
    operation: str
    url_path: str
    status: int | None  # None: no answer
    ms: float
    problem: str  # "" when it passed

    @property
    def passed(self) -> bool:
        return not self.problem


def smoke_pass(base_url: str, spec: dict[str, Any], headers: Mapping[str, str] | None = None) -> list[SmokeResult]:
    """One request per GET operation of `spec` to `base_url` (the frontend URL with the API's prefix)."""
    try:
        plan = plan_from_spec(spec, base_path="", wait=(0.0, 0.0))
    except PlanError as exc:
        return [SmokeResult("(none)", "", None, 0.0, f"no safe operation to try: {exc}")]
    results = []
    with httpx.Client(base_url=base_url.rstrip("/"), timeout=TIMEOUT_S, follow_redirects=False) as client:
        for operation in plan.operations[:MAX_OPERATIONS]:
            if not operation.targets:
                continue
            path, extra = operation.targets[0]
            label = f"{operation.method} {operation.name}"
            started = time.monotonic()
            try:
                answer = client.get(path, headers={**extra, **(headers or {})})
            except httpx.HTTPError as exc:
                results.append(SmokeResult(label, path, None, _ms(started), f"no answer ({type(exc).__name__})"))
                continue
            status, documented = answer.status_code, dict.fromkeys(operation.statuses)
            problem = ""
            if status >= 500:
                problem = f"HTTP {status}"
            elif status_key(documented, status) is None:
                problem = f"HTTP {status} is not documented (documented: {', '.join(sorted(documented))})"
            results.append(SmokeResult(label, path, status, _ms(started), problem))
    return results


def _ms(started: float) -> float:
    return round((time.monotonic() - started) * 1000, 1)
