"""Validation and governance lint of a bundled spec, located in its source files.

Validation is what no ruleset relaxes: the official JSON Schema and `$ref`s that resolve. Everything
Spectral has as a rule (path parameters, unique operationIds, examples against their schema, ...) is a
rule of the ruleset under Spectral's name, reported by lint once, and tunable like any rule.
"""

from __future__ import annotations

from dataclasses import dataclass

from apiops_pipelines.findings import Finding, sort_findings
from apiops_pipelines.gates.locate import located_in_order
from apiops_pipelines.lint import Ruleset, lint
from apiops_pipelines.specs.bundle import Bundle
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
    """Validation (official schema, resolvable references), then the ruleset, both located."""
    found = validate_spec(bundle.document)
    spec_file = bundle.files[0] if bundle.files else ""
    linted = lint(bundle.document, ruleset, spec_file=spec_file)
    located = located_in_order(found + linted, bundle.source_map)  # one batch: each source file read once
    return SpecReport(sort_findings(located[:len(found)]), sort_findings(located[len(found):]))
