"""Spec validation: what no ruleset may relax. The official JSON Schema of the spec's version (Spectral's
`oas2-schema` / `oas3-schema`) and `$ref`s that resolve to a definition. Everything Spectral has as a rule
(path parameters, unique operationIds, examples that fit their schema, ...) is a lint rule of that name."""

from __future__ import annotations

import gc
from typing import Any

from apiops_pipelines.findings import Finding, sort_findings
from apiops_pipelines.validation.semantic import check_semantics
from apiops_pipelines.validation.structural import check_structure


def validate_spec(document: dict[str, Any]) -> list[Finding]:
    """Every finding, errors first. References are checked only on a structurally sound document."""
    collecting = gc.isenabled()
    gc.disable()  # the checks make many small acyclic objects; each collection would rescan the whole document
    try:
        findings = check_structure(document)
        if not any(f.blocking for f in findings):
            findings += check_semantics(document)
    finally:
        if collecting:
            gc.enable()
    return sort_findings(findings)
