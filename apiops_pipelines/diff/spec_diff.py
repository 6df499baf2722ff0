"""Diff two bundled specs: paths and operations, then everything inside each operation that both have.

`diff_specs` never copies either document: references are followed in place, each schema pair is compared
once however many operations use it, and a big spec costs about one walk over each document.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from apiops_pipelines.diff.body_diff import diff_request_body, diff_responses
from apiops_pipelines.diff.change import OPERATION_KINDS, Change
from apiops_pipelines.diff.operation_model import HTTP_METHODS, Operation, path_key
from apiops_pipelines.diff.operations import read_operation
from apiops_pipelines.diff.parameter_diff import diff_parameters
from apiops_pipelines.diff.refs import Ref, SpecDocument, escape
from apiops_pipelines.diff.reporter import OperationReport
from apiops_pipelines.diff.schema_compare import SchemaComparer
from apiops_pipelines.diff.schema_graph import SchemaGraph
from apiops_pipelines.diff.security_diff import diff_security
from apiops_pipelines.diff.server_diff import diff_document
from apiops_pipelines.diff.unchanged import Unchanged

# Document-level keys an operation inherits; when they differ, no operation is skipped as unchanged.
_INHERITED = ("security", "consumes", "produces")


def _change(change_id: str, operation: str | None, pointer: str, text: str) -> Change:
    level, direction = OPERATION_KINDS[change_id]
    return Change(change_id, level, operation, pointer, text, direction)


def _paths(doc: SpecDocument) -> dict[str, tuple[str, Ref]]:
    """Path items by their template with parameter names blanked: key -> (path as written, (pointer, item))."""
    paths = doc.root.get("paths")
    found: dict[str, tuple[str, Ref]] = {}
    for path, raw in (paths.items() if isinstance(paths, dict) else ()):
        item = doc.resolve((f"/paths/{escape(str(path))}", raw))
        if isinstance(item[1], dict):
            found.setdefault(path_key(str(path)), (str(path), item))
    return found


def _methods(item: dict[str, Any]) -> list[str]:
    return [method for method in HTTP_METHODS if isinstance(item.get(method), dict)]


@contextmanager
def _collector_paused() -> Iterator[None]:
    """The diff makes many small acyclic objects beside two documents of millions of nodes; each burst would
    have the cyclic collector rescan those documents, which doubles the time of a big diff. Reference
    counting still frees everything the diff makes."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def diff_specs(base: dict[str, Any], revision: dict[str, Any]) -> list[Change]:
    """Every change from `base` to `revision`, each with its id, level, operation, place and text."""
    for name, document in (("base", base), ("revision", revision)):
        if not isinstance(document, dict):
            kind = type(document).__name__
            raise TypeError(f"the {name} spec must be a mapping (a bundled OpenAPI document), not {kind}")
    with _collector_paused():
        return _diff(base, revision)


def _diff(base: dict[str, Any], revision: dict[str, Any]) -> list[Change]:
    base_doc, revision_doc = SpecDocument(base), SpecDocument(revision)
    graph = SchemaGraph(SchemaComparer(base_doc, revision_doc))
    changes = diff_document(base_doc, revision_doc)
    unchanged = Unchanged(base_doc, revision_doc)
    same_context = base_doc.is_swagger == revision_doc.is_swagger and all(
        base.get(key) == revision.get(key) for key in _INHERITED
    )
    base_paths, revision_paths = _paths(base_doc), _paths(revision_doc)
    for key, (path, (pointer, item)) in revision_paths.items():
        if key not in base_paths:
            methods = ", ".join(m.upper() for m in _methods(item))
            changes.append(_change("path-added", None, pointer, f"path {path} added ({methods})"))
            continue
        old_path, (old_pointer, old_item) = base_paths[key]
        old_methods, methods = _methods(old_item), _methods(item)
        for method in old_methods:
            if method not in methods:
                label = f"{method.upper()} {old_path}"
                text = f"{label}: operation removed"
                changes.append(_change("operation-removed", label, f"{old_pointer}/{method}", text))
        for method in methods:
            label = f"{method.upper()} {path}"
            if method not in old_methods:
                changes.append(_change("operation-added", label, f"{pointer}/{method}", f"{label}: operation added"))
                continue
            if (same_context and path == old_path and unchanged.same(old_item.get("parameters"), item.get("parameters"))
                    and unchanged.same(old_item[method], item[method])):  # fmt: skip
                continue
            old = read_operation(base_doc, old_path, (old_pointer, old_item), method)
            new = read_operation(revision_doc, path, (pointer, item), method)
            changes.extend(diff_operation(OperationReport(graph, base_doc, revision_doc, old, new)))
    for key, (path, (pointer, item)) in base_paths.items():
        if key not in revision_paths:
            methods = ", ".join(m.upper() for m in _methods(item))
            changes.append(_change("path-removed", None, pointer, f"path {path} removed ({methods})"))
    return changes


def diff_operation(report: OperationReport) -> list[Change]:
    old, new = report.base, report.revision
    _diff_flags(report, old, new)
    diff_security(report)
    diff_parameters(report)
    diff_request_body(report)
    diff_responses(report)
    return report.changes


def _diff_flags(report: OperationReport, old: Operation, new: Operation) -> None:
    if new.deprecated != old.deprecated:
        change_id = "operation-deprecated" if new.deprecated else "operation-deprecation-removed"
        pointer = f"{new.pointer}/deprecated" if new.deprecated else f"{old.pointer}/deprecated"
        report.add(change_id, pointer, "deprecated" if new.deprecated else "no longer deprecated")
    if old.operation_id != new.operation_id and old.operation_id is not None:
        text = f"operationId changed from {old.operation_id!r} to {new.operation_id!r}"
        text += " (generated clients rename the method)"
        report.add("operation-id-changed", new.pointer, text)
