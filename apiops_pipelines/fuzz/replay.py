"""Send recorded failing cases (fuzz/memory.py) to an instance again, and judge each response with the
schemathesis check that failed when the case was found, against today's spec.

The request goes out byte for byte as it was recorded (method, path and query, headers, body), only the base
URL changed and each `${VAR}` the API's `fuzz.headers` names expanded from the environment; what comes back
is scrubbed of those values. A case that cannot be sent or judged counts against the run (never a silent
pass); a case whose operation left the spec, or that `fuzz.exclude` now excludes, is skipped and says so.
Bounded: one timeout per request and a time budget for the whole replay.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from apiops_pipelines.estate.api_config import FuzzConfig
from apiops_pipelines.fuzz.curl import curl_command
from apiops_pipelines.fuzz.recorded_cases import RecordedCase
from apiops_pipelines.fuzz.secrets import REFERENCE, Scrubber, expand_references, header_secrets
from apiops_pipelines.load.targets import check_target

FAILS_AGAIN, FIXED, SKIPPED, ERROR = "fails again", "fixed", "skipped", "error"


@dataclass(frozen=True)
class ReplayResult:
    case: RecordedCase
    outcome: str  # fails again, fixed, skipped, error
    blocking: bool  # fails a blocking check again, or could not be judged
    detail: str  # what the check said, or why the case was skipped or could not run
    status: int | None = None
    curl: str = ""  # sends the same request to the instance that was replayed against


@dataclass(frozen=True)
class ReplayReport:
    results: tuple[ReplayResult, ...]
    notes: tuple[str, ...] = ()

    @property
    def blocking(self) -> bool:
        return any(result.blocking for result in self.results)

    def count(self, outcome: str) -> int:
        return sum(result.outcome == outcome for result in self.results)

    def headline(self) -> str:
        if not self.results:
            return "no recorded fuzz failure to replay"
        parts = [f"{len(self.results)} recorded case(s): {self.count(FAILS_AGAIN)} fail again "
                 f"({sum(r.blocking and r.outcome == FAILS_AGAIN for r in self.results)} blocking), "
                 f"{self.count(FIXED)} fixed"]  # fmt: skip
        parts += [f"{self.count(kind)} {kind}" for kind in (SKIPPED, ERROR) if self.count(kind)]
        return ", ".join(parts)


def replay_cases(
    spec: dict[str, Any] | bytes, base_url: str, cases: Sequence[RecordedCase], config: FuzzConfig, *,
    allow_hosts: Iterable[str] = (), environ: Mapping[str, str] | None = None, request_timeout: float = 10.0,
    budget_s: float = 300.0,
) -> ReplayReport:  # fmt: skip
    """Replay `cases` against `base_url`; `spec` is today's bundled document (or its JSON, read only when there
    is a case: schemathesis keeps it), `config` the API's `fuzz:`."""
    check_target(base_url, allow_hosts)
    secrets = header_secrets(config.headers, dict(os.environ if environ is None else environ))
    scrubber = Scrubber(secrets)
    base, deadline, results = base_url.rstrip("/"), time.monotonic() + budget_s, []
    if not cases:
        return ReplayReport(())
    judge = _Judge(json.loads(spec) if isinstance(spec, bytes) else spec)
    try:
        judge.load()
    except Exception as exc:  # schemathesis' own loader refused today's spec: nothing can be judged
        return ReplayReport(tuple(ReplayResult(case, ERROR, True, f"schemathesis could not load the spec: {exc!r}")
                                  for case in cases))  # fmt: skip
    missing = sorted({name for case in cases for values in case.headers.values() for value in values
                      for name in REFERENCE.findall(value)} - set(secrets))  # fmt: skip
    notes = [f"recorded requests send ${{{name}}}, which fuzz.headers no longer names: sent as written"
             for name in missing]  # fmt: skip
    with httpx.Client(trust_env=False, timeout=request_timeout, follow_redirects=False) as client:
        for case in cases:
            if time.monotonic() > deadline:
                results.append(ReplayResult(case, ERROR, True, f"not replayed: the {budget_s:.0f}s replay budget "
                                            "ran out (too many recorded cases, or a slow service)"))  # fmt: skip
                continue
            results.append(_replay(client, judge, base, case, config, secrets, scrubber))
    return ReplayReport(tuple(results), tuple(notes))


def _replay(client: httpx.Client, judge: _Judge, base: str, case: RecordedCase, config: FuzzConfig,
            secrets: Mapping[str, str], scrubber: Scrubber) -> ReplayResult:  # fmt: skip
    request = {"method": case.method, "uri": base + case.target, "headers": case.headers,
               "body": {"$base64": case.body} if case.body is not None else None}  # fmt: skip
    curl = curl_command(request, list(secrets))
    if case.operation in config.exclude:
        return ReplayResult(case, SKIPPED, False, "fuzz.exclude excludes this operation now", curl=curl)
    if not judge.knows(case.operation):
        return ReplayResult(case, SKIPPED, False, f"{case.operation} is no longer an operation of the spec", curl=curl)
    try:
        # a ${VAR} the API's fuzz.headers no longer names stays as written: the request then shows what is missing
        headers = [(name, expand_references(value, secrets, keep_missing=True))
                   for name, values in case.headers.items() for value in values]  # fmt: skip
        response = client.request(case.method, base + case.target, headers=headers, content=_bytes(case.body))
    except (httpx.HTTPError, ValueError) as exc:
        return ReplayResult(case, ERROR, True, scrubber.text(f"could not send it: {exc!r}"), curl=curl)
    try:
        failure = judge.check(case, response, base)
    except Exception as exc:  # schemathesis could not judge it: shown, and never a pass
        return ReplayResult(case, ERROR, True, scrubber.text(f"could not judge the response: {exc!r}"),
                            response.status_code, curl)  # fmt: skip
    if failure is None:
        return ReplayResult(case, FIXED, False, f"{case.check} passes now", response.status_code, curl)
    blocking = case.check in config.blocking_checks
    return ReplayResult(case, FAILS_AGAIN, blocking, scrubber.text(failure), response.status_code, curl)


class _Judge:
    """schemathesis' own checks on today's spec, imported lazily (it is heavy, and most APIs replay nothing)."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        self._schema: Any = None

    def load(self) -> None:
        import schemathesis
        from schemathesis.checks import load_all_checks

        load_all_checks()
        self._schema = schemathesis.openapi.from_dict(self.spec)

    def knows(self, operation: str) -> bool:
        return self._schema.find_operation_by_label(operation) is not None

    def check(self, case: RecordedCase, response: httpx.Response, base: str) -> str | None:
        """What the case's check says about `response` now, or None when it passes."""
        from schemathesis.checks import CHECKS
        from schemathesis.core.failures import FailureGroup

        operation = self._schema.find_operation_by_label(case.operation)
        probe = operation.Case(method=case.method, path_parameters=dict(case.path_parameters))
        try:
            # base_url given: schemathesis need not work the base back out of the request's URL
            probe.validate_response(response, checks=CHECKS.get_by_names([case.check]),
                                    transport_kwargs={"base_url": base})  # fmt: skip
        except FailureGroup as group:
            return "; ".join(f"{f.code} {f.title}" + (f": {f.message.strip().splitlines()[0]}" if f.message.strip()
                             else "") for f in group.exceptions)  # fmt: skip
        return None


def _bytes(body: str | None) -> bytes | None:
    if body is None:
        return None
    try:
        return base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("the recorded body is not base64") from None
