"""Parameters of one operation: removed, renamed, added, required or not, serialized differently, retyped."""

from __future__ import annotations

from apiops_pipelines.diff.operation_model import Parameter
from apiops_pipelines.diff.reporter import OperationReport
from apiops_pipelines.diff.schema_view import view_of


def diff_parameters(report: OperationReport) -> None:
    base, revision = report.base.parameters, report.revision.parameters
    removed = [key for key in base if key not in revision]
    added = [key for key in revision if key not in base]
    renamed: dict[tuple[str, str], tuple[str, str]] = {}
    for location in {key[0] for key in removed} - {"path"}:
        gone = [key for key in removed if key[0] == location]
        new = [key for key in added if key[0] == location]
        if len(gone) == 1 and len(new) == 1:  # one name out, one in, same place: a rename
            renamed[gone[0]] = new[0]
    for key in removed:
        old = base[key]
        if key in renamed:
            new_param = revision[renamed[key]]
            text = f"{old.location} parameter '{old.name}' renamed to '{new_param.name}'"
            report.add("request-parameter-renamed", new_param.pointer, text)
        else:
            report.add("request-parameter-removed", old.pointer, f"{old.location} parameter '{old.name}' removed")
    renamed_to = set(renamed.values())
    for key in added:
        param = revision[key]
        if key in renamed_to:
            continue
        if param.required:
            text = f"required {param.location} parameter '{param.name}' added"
            report.add("request-required-parameter-added", param.pointer, text)
        else:
            text = f"optional {param.location} parameter '{param.name}' added"
            report.add("request-optional-parameter-added", param.pointer, text)
    for key, old in base.items():
        if key in revision:
            _diff_parameter(report, old, revision[key])


def _diff_parameter(report: OperationReport, old: Parameter, new: Parameter) -> None:
    name = f"{new.location} parameter '{new.name}'"
    if new.location == "path" and old.name != new.name:  # path parameters match by position, not name
        text = f"path parameter '{old.name}' renamed to '{new.name}'"
        report.add("request-path-parameter-renamed", new.pointer, text)
    if old.required != new.required:
        change_id = "request-parameter-became-required" if new.required else "request-parameter-became-optional"
        report.add(change_id, new.pointer, f"{name} became {'required' if new.required else 'optional'}")
    if old.style != new.style:
        types = view_of(report.revision_doc, new.schema).types or frozenset()
        if old.style[0] != new.style[0] or types & {"array", "object"}:
            text = f"{name} serialization changed from {_style(old.style)} to {_style(new.style)}"
            report.add("request-parameter-style-changed", new.pointer, text)
    if new.deprecated and not old.deprecated:
        report.add("request-parameter-deprecated", new.pointer, f"{name} deprecated")
    report.schema("parameter", name, old.schema, new.schema, set())


def _style(style: tuple[str, bool]) -> str:
    return f"{style[0]}{' (exploded)' if style[1] else ''}"
