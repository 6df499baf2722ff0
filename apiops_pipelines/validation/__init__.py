"""Spec validation: the official schema of the spec's version, plus what a schema cannot express."""

from __future__ import annotations

import gc
from typing import Any

from apiops_pipelines.findings import Finding, sort_findings
from apiops_pipelines.validation.examples import check_examples
from apiops_pipelines.validation.semantic import check_semantics
from apiops_pipelines.validation.structural import check_structure


def validate_spec(document: dict[str, Any]) -> list[Finding]:
    """Every finding, errors first. Semantic checks run only on a structurally sound document."""
    collecting = gc.isenabled()
    gc.disable()  # the checks make many small acyclic objects; each collection would rescan the whole document
    try:
        findings = check_structure(document)
        if not any(f.blocking for f in findings):
            findings += check_semantics(document)
            findings += check_examples(document)
    finally:
        if collecting:
            gc.enable()
    return sort_findings(findings)
