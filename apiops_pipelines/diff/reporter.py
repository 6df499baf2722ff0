"""Turning what the rules found in one operation into `Change`s with their id, level, place and text."""

from __future__ import annotations

from dataclasses import dataclass, field

from apiops_pipelines.diff.change import OPERATION_KINDS, SCHEMA_CONTEXTS, Change, schema_change_kind
from apiops_pipelines.diff.operation_model import Operation
from apiops_pipelines.diff.refs import Ref, SpecDocument
from apiops_pipelines.diff.schema_findings import Key, Path, SchemaFinding
from apiops_pipelines.diff.schema_graph import SchemaGraph


def render_path(path: Path) -> str:
    text = ""
    for token in path:
        glued = token == "[]" or token.startswith("<") or not text
        text += token if glued else f".{token}"
    return text


def schema_text(where: str, path: Path, finding: SchemaFinding) -> str:
    return f"{where}: property '{render_path(path)}' {finding.detail}" if path else f"{where}: {finding.detail}"


@dataclass
class OperationReport:
    graph: SchemaGraph
    base_doc: SpecDocument
    revision_doc: SpecDocument
    base: Operation
    revision: Operation
    changes: list[Change] = field(default_factory=list)

    def add(self, change_id: str, pointer: str, text: str) -> None:
        level, direction = OPERATION_KINDS[change_id]
        label = self.revision.label
        self.changes.append(Change(change_id, level, label, pointer, f"{label}: {text}", direction))

    def schema(self, context: str, where: str, base: Ref, revision: Ref, seen: set[Key]) -> None:
        """Report what changed in a schema used as `context` (e.g. "response-body"), described as `where`."""
        label = self.revision.label
        for path, finding in self.graph.findings(base, revision, SCHEMA_CONTEXTS[context][2], seen):
            change_id, level, direction = schema_change_kind(context, finding.kind, not path)
            text = f"{label}: {schema_text(where, path, finding)}"
            self.changes.append(Change(change_id, level, label, finding.pointer, text, direction))
