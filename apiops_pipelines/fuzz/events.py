"""Read schemathesis' NDJSON event stream into failure groups and errors.

Every finished scenario carries its cases, the checks run on each, and the request each case sent; a failed
check names its operation even in stateful scenarios (whose label is only "Stateful tests"). One case can
fail several checks; each check is its own group, and the same case may be an example in several groups.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from apiops_pipelines.fuzz.curl import curl_command
from apiops_pipelines.fuzz.model import FailureExample, FailureGroup, FuzzError

EXAMPLES_PER_GROUP = 3


@dataclass
class _Group:
    check: str
    code: str
    title: str
    operation: str
    severity: str
    case_ids: set[str] = field(default_factory=set)
    examples: list[FailureExample] = field(default_factory=list)


def read_events(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if isinstance(event, dict) and len(event) == 1:
                yield next(iter(event.items()))


def collect(path: Path, blocking_checks: Collection[str], references: Collection[str] = ()
            ) -> tuple[list[FailureGroup], list[FuzzError]]:  # fmt: skip
    groups: dict[tuple[str, str, str], _Group] = {}
    errors: dict[tuple[str, str], list[str]] = {}
    for kind, event in read_events(path):
        if kind == "ScenarioFinished":
            _scenario(event, groups, references)
        elif kind == "FatalError":  # the run stopped (spec unusable, engine crash): every operation is untested
            exception = event.get("exception") or {}
            errors.setdefault(("(all operations)", str(exception.get("type") or "FatalError")), []).append(
                str(exception.get("message") or ""))
        elif kind == "NonFatalError":
            value = event.get("value") or {}
            key = (str(event.get("label") or "?"), str(value.get("type") or "Error"))
            errors.setdefault(key, []).append(str(value.get("message") or ""))
    failures = [FailureGroup(g.check, g.code, g.title, g.operation, g.severity, g.check in blocking_checks,
                             len(g.case_ids), tuple(_pick(g.examples))) for g in groups.values()]  # fmt: skip
    failures.sort(key=lambda g: (not g.blocking, g.operation, g.check))
    return failures, [FuzzError(label, kind, messages[0], len(messages)) for (label, kind), messages in errors.items()]


def _scenario(event: dict[str, Any], groups: dict[tuple[str, str, str], _Group], references: Collection[str]) -> None:
    recorder = event.get("recorder") or {}
    interactions = recorder.get("interactions") or {}
    cases = recorder.get("cases") or {}
    for case_id, checks in (recorder.get("checks") or {}).items():
        for check in checks or []:
            if check.get("status") != "failure":
                continue
            failure = (check.get("failure_info") or {}).get("failure") or {}
            operation = str(failure.get("operation") or recorder.get("label") or "?")
            name = str(check.get("name") or "?")
            key = (name, operation, str(failure.get("code") or ""))
            group = groups.get(key)
            if group is None:
                group = groups[key] = _Group(name, key[2], str(failure.get("title") or name), operation,
                                             str(failure.get("severity") or ""))  # fmt: skip
            interaction = interactions.get(case_id) or {}
            response = interaction.get("response") or {}
            request = interaction.get("request") or None
            value = (cases.get(case_id) or {}).get("value") or {}
            group.case_ids.add(case_id)
            group.examples.append(FailureExample(
                case_id, str(event.get("phase") or ""), str(failure.get("message") or group.title),
                curl_command(request or {}, references), response.get("status_code"),
                request if isinstance(request, dict) else None, value.get("path_parameters") or {}))  # fmt: skip


def _pick(examples: list[FailureExample]) -> list[FailureExample]:
    """The shortest reproducers, one per distinct message first: easier to read, and each shows something new."""
    ordered = sorted(examples, key=lambda e: len(e.curl))
    picked, seen = [], set()
    for example in ordered:
        if example.message not in seen and example.case_id not in {p.case_id for p in picked}:
            picked.append(example)
            seen.add(example.message)
    for example in ordered:
        if len(picked) >= EXAMPLES_PER_GROUP:
            break
        if example not in picked and example.case_id not in {p.case_id for p in picked}:
            picked.append(example)
    return picked[:EXAMPLES_PER_GROUP]
