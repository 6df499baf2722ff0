"""The failing cases of a fuzz run as requests that can be sent again: what `fuzz/memory.py` keeps.

A failure group's examples name their cases; schemathesis' NDJSON stream holds each case's request (already
scrubbed: a secret header shows as its `${VAR}`) and the path parameters it filled in. Only failures that the
response alone decides are kept: the other checks judge a case by how schemathesis generated it (negative
data, a dropped required header, an unexpected method), which a replay of the bare request cannot know.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shlex
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import urlsplit

from apiops_pipelines.fuzz.events import read_events
from apiops_pipelines.fuzz.model import FuzzReport

REPLAYABLE_CHECKS = ("not_a_server_error", "status_code_conformance", "content_type_conformance",
                     "response_headers_conformance", "response_schema_conformance")  # fmt: skip
# Recomputed by the client that sends the request again, or schemathesis' own bookkeeping.
_DROPPED_HEADERS = {"content-length", "host", "connection", "transfer-encoding", "x-schemathesis-testcaseid"}
_MESSAGE_LIMIT = 1000


@dataclass(frozen=True)
class RecordedCase:
    check: str  # the schemathesis check it failed: not_a_server_error, ...
    operation: str  # "GET /items/{id}"
    method: str
    target: str  # path and query below the fuzzed base URL: "/items/3?sort=price"
    headers: dict[str, list[str]] = field(default_factory=dict)  # as recorded: secrets as ${VAR}
    body: str | None = None  # base64 of the bytes sent
    path_parameters: dict[str, str] = field(default_factory=dict)
    status: int | None = None  # what the service answered when the case was found
    message: str = ""  # what the check said then
    commit: str = ""  # the commit that was fuzzed
    found_at: float = 0.0
    source: str = ""  # the fuzz report folder it came from

    @property
    def key(self) -> str:
        """Same check, operation and request: the same case, however often it is found."""
        identity = [self.check, self.operation, self.method, self.target, sorted(self.headers.items()), self.body]
        return hashlib.sha256(json.dumps(identity).encode()).hexdigest()[:24]

    def to_json(self) -> str:
        return json.dumps({"key": self.key, **asdict(self)}, sort_keys=True)

    @classmethod
    def from_json(cls, line: str) -> RecordedCase:
        data = json.loads(line)
        data.pop("key", None)
        return cls(**data)


def failing_cases(report: FuzzReport, commit: str, base_url: str | None = None) -> list[RecordedCase]:
    """The example cases of every failure group whose check a replay can judge, with the requests the events
    gave them (read from the run's NDJSON for examples built without). `base_url` is the URL that was fuzzed
    (default: the one in the report's replay command)."""
    base = (base_url or _fuzzed_url(report.replay)).rstrip("/")
    wanted = {(g.check, e.case_id): (g, e) for g in report.failures if g.check in REPLAYABLE_CHECKS
              for e in g.examples}  # fmt: skip
    events = report.files.get("ndjson")
    unread = {case_id for (_check, case_id), (_group, example) in wanted.items() if example.request is None}
    readable = events is not None and events.is_file()
    found = _requests(read_events(events), unread) if unread and readable else {}  # type: ignore[arg-type]
    found |= {e.case_id: (e.request, e.path_parameters) for _g, e in wanted.values() if e.request is not None}
    source, now = str(events.parent) if events is not None else "", time.time()
    cases = []
    for (check, case_id), (group, example) in wanted.items():
        if case_id not in found:
            continue
        request, parameters = found[case_id]
        method = str(request.get("method") or "").upper()
        if method != group.operation.split(" ")[0].upper():  # a probe with another method: unsupported_method judges it
            continue
        headers = {str(k): [str(v) for v in (vs if isinstance(vs, list) else [vs])]
                   for k, vs in (request.get("headers") or {}).items()
                   if str(k).lower() not in _DROPPED_HEADERS}  # fmt: skip
        cases.append(RecordedCase(
            check, group.operation, method,
            _target(str(request.get("uri") or ""), base), headers,
            _body(request.get("body")),
            {str(k): str(v) for k, v in (parameters or {}).items()}, example.status,
            example.message.strip()[:_MESSAGE_LIMIT], commit, now, source,
        ))  # fmt: skip
    return cases


def _requests(events: Iterable[tuple[str, dict[str, Any]]], case_ids: set[str]) -> dict[str, tuple[dict, dict]]:
    """case id -> (the request it sent, its path parameters)."""
    found: dict[str, tuple[dict, dict]] = {}
    for kind, event in events:
        if kind != "ScenarioFinished":
            continue
        recorder = event.get("recorder") or {}
        cases = recorder.get("cases") or {}
        for case_id, interaction in (recorder.get("interactions") or {}).items():
            if case_id in case_ids and isinstance(interaction, dict) and interaction.get("request"):
                value = ((cases.get(case_id) or {}).get("value") or {})
                found[case_id] = (interaction["request"], value.get("path_parameters") or {})
    return found


def _body(body: Any) -> str | None:
    if isinstance(body, dict):
        return body.get("$base64") if isinstance(body.get("$base64"), str) else None
    return None if body is None else base64.b64encode(str(body).encode("utf-8")).decode()


def _target(uri: str, base: str) -> str:
    if base and uri.startswith(base):
        rest = uri[len(base):]
        return rest if rest.startswith("/") else "/" + rest
    parts = urlsplit(uri)  # a request outside the fuzzed base (a redirect): keep its path and query
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def _fuzzed_url(replay: str) -> str:
    words = shlex.split(replay) if replay else []
    return next((words[i + 1] for i, word in enumerate(words[:-1]) if word == "--url"), "")

