"""Put a bundle finding back where a person wrote it: source file, line and column, through the source map."""

from __future__ import annotations

from apiops_pipelines.findings import Finding, sort_findings
from apiops_pipelines.spec_sourcemap import SourceMap


def locate_findings(findings: list[Finding], source_map: SourceMap) -> list[Finding]:
    located = []
    for finding in findings:
        if finding.file is not None:  # already located (a ruleset notice, a pact file)
            located.append(finding)
            continue
        file, line, column = source_map.locate(finding.pointer)
        located.append(finding.located(file, line, column))
    return sort_findings(located)
