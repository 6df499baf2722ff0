"""Put a bundle finding back where a person wrote it: source file, line and column, through the source map."""

from __future__ import annotations

from apiops_pipelines.findings import Finding, sort_findings
from apiops_pipelines.specs.sourcemap import SourceMap


def locate_findings(findings: list[Finding], source_map: SourceMap) -> list[Finding]:
    return sort_findings(located_in_order(findings, source_map))


def located_in_order(findings: list[Finding], source_map: SourceMap) -> list[Finding]:
    """The findings with their places, in the same order, located in one batch (each file read once)."""
    pending = [finding for finding in findings if finding.file is None]  # not a ruleset notice, a pact file
    places = iter(source_map.locate_all([finding.pointer for finding in pending]))
    return [finding if finding.file is not None else finding.located(*next(places)) for finding in findings]
