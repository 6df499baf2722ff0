"""Validation and governance lint of a bundled spec, located in its source files."""

from __future__ import annotations

from dataclasses import dataclass

from apiops_pipelines.findings import Finding
from apiops_pipelines.gates.locate import locate_findings
from apiops_pipelines.lint import Ruleset, lint
from apiops_pipelines.spec_bundle import Bundle
from apiops_pipelines.validation import validate_spec


@dataclass(frozen=True)
class SpecReport:
    validation: list[Finding]
    lint: list[Finding]

    @property
    def findings(self) -> list[Finding]:
        return self.validation + self.lint

    @property
    def valid(self) -> bool:
        return not any(f.blocking for f in self.validation)

    @property
    def lint_passed(self) -> bool:
        return not any(f.blocking for f in self.lint)


def check_spec(bundle: Bundle, ruleset: Ruleset) -> SpecReport:
    """Validation (official schema + what it cannot express), then the ruleset, both located."""
    validation = locate_findings(validate_spec(bundle.document), bundle.source_map)
    spec_file = bundle.files[0] if bundle.files else ""
    linted = locate_findings(lint(bundle.document, ruleset, spec_file=spec_file), bundle.source_map)
    return SpecReport(validation, _without_repeats(linted, validation))


# Spectral-compatible lint rules that restate a validation rule: reported once, by validation.
_RESTATED = {
    "path-params": ("path-params-undeclared", "path-params-unused", "path-param-not-required"),
    "operation-operationId-unique": ("operation-id-duplicate",),
}


def _without_repeats(linted: list[Finding], validation: list[Finding]) -> list[Finding]:
    """A lint finding that restates a validation finding on the same path item is reported once."""
    by_item = {(f.rule, _path_item(f.pointer)) for f in validation}
    exact = {(f.rule, f.pointer) for f in validation}
    return [f for f in linted
            if (f.rule, f.pointer) not in exact
            and not any((rule, _path_item(f.pointer)) in by_item for rule in _RESTATED.get(f.rule, ()))]  # fmt: skip


def _path_item(pointer: str) -> str:
    """`/paths/~1orders` for any pointer inside that path item; the document root otherwise."""
    parts = pointer.split("/")
    return "/".join(parts[:3]) if len(parts) > 2 and parts[1] == "paths" else ""
