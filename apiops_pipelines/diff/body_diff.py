"""Request bodies and responses of one operation: media types, status codes, headers and their schemas."""

from __future__ import annotations

from apiops_pipelines.diff.operation_model import Response
from apiops_pipelines.diff.refs import Ref
from apiops_pipelines.diff.reporter import OperationReport
from apiops_pipelines.diff.schema_findings import Key


def _matching(media: str, content: dict[str, Ref], wildcards: bool) -> str | None:
    """The media type of `content` that serves `media`: the same one, the same without parameters
    (`; charset=utf-8`), or (for what the server accepts) a wildcard such as `application/*`."""
    if media in content:
        return media
    essence = media.split(";", 1)[0]
    for candidate in content:
        if candidate.split(";", 1)[0] == essence:
            return candidate
    if wildcards:
        for candidate in (essence.split("/", 1)[0] + "/*", "*/*"):
            if candidate in content:
                return candidate
    return None


def diff_request_body(report: OperationReport) -> None:
    old, new = report.base.body, report.revision.body
    if old is None and new is None:
        return
    if old is None:
        assert new is not None
        change_id = "request-required-body-added" if new.required else "request-optional-body-added"
        report.add(change_id, new.pointer, f"{'required' if new.required else 'optional'} request body added")
        return
    if new is None:
        report.add("request-body-removed", old.pointer, "request body removed")
        return
    if old.required != new.required:
        change_id = "request-body-became-required" if new.required else "request-body-became-optional"
        report.add(change_id, new.pointer, f"request body became {'required' if new.required else 'optional'}")
    seen: set[Key] = set()
    matched: set[str] = set()
    for media, schema in old.content.items():
        serving = _matching(media, new.content, wildcards=True)
        if serving is None:
            report.add("request-content-type-removed", old.pointer, f"request content type {media} removed")
        else:
            matched.add(serving)
            report.schema("request-body", f"request body ({media})", schema, new.content[serving], seen)
    for media in new.content:
        if media not in matched and _matching(media, old.content, wildcards=False) is None:
            report.add("request-content-type-added", new.pointer, f"request content type {media} added")


def _status_match(status: str, responses: dict[str, Response]) -> str | None:
    if status in responses:
        return status
    covering = f"{status[0]}XX"  # a documented 200 is still documented by a 2XX range
    return covering if len(status) == 3 and status.isdigit() and covering in responses else None


def diff_responses(report: OperationReport) -> None:
    old_responses, new_responses = report.base.responses, report.revision.responses
    seen: set[Key] = set()
    header_seen: dict[str, set[Key]] = {}
    matched: set[str] = set()
    for status, old in old_responses.items():
        serving = _status_match(status, new_responses)
        if serving is None:
            report.add("response-status-removed", old.pointer, f"response {status} removed")
            continue
        matched.add(serving)
        new = new_responses[serving]
        for media, schema in old.content.items():
            new_media = _matching(media, new.content, wildcards=False)
            if new_media is None:
                text = f"response {status} content type {media} removed"
                report.add("response-content-type-removed", old.pointer, text)
            else:
                report.schema("response-body", f"response {status} ({media})", schema, new.content[new_media], seen)
        for media in new.content:
            if _matching(media, old.content, wildcards=False) is None:
                report.add("response-content-type-added", new.pointer, f"response {status} content type {media} added")
        _diff_headers(report, status, old, new, header_seen)
    for status, new in new_responses.items():
        if status not in matched and status not in old_responses:
            change_id = "response-success-status-added" if status.startswith("2") else "response-status-added"
            report.add(change_id, new.pointer, f"response {status} added")


def _diff_headers(report: OperationReport, status: str, old: Response, new: Response,
                  seen: dict[str, set[Key]]) -> None:  # fmt: skip
    for key, header in old.headers.items():
        now = new.headers.get(key)
        if now is None:
            report.add("response-header-removed", header.pointer, f"response {status} header '{header.name}' removed")
            continue
        where = f"response {status} header '{now.name}'"
        if header.required and not now.required:
            report.add("response-header-became-optional", now.pointer, f"{where} became optional")
        report.schema("response-header", where, header.schema, now.schema, seen.setdefault(key, set()))
    for key, header in new.headers.items():
        if key not in old.headers:
            report.add("response-header-added", header.pointer, f"response {status} header '{header.name}' added")
