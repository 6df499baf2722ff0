"""Pact-vs-spec results for people (Markdown, text) and for CI (JUnit XML)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence

from apiops_pipelines.findings import Finding
from apiops_pipelines.pacts.shapes import PactError
from apiops_pipelines.pacts.spec_check import InteractionResult

_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")  # characters XML 1.0 cannot carry


def by_consumer(results: Iterable[InteractionResult]) -> dict[str, list[InteractionResult]]:
    grouped: dict[str, list[InteractionResult]] = {}
    for result in results:
        grouped.setdefault(result.consumer, []).append(result)
    return grouped


def blocking(results: Iterable[InteractionResult], errors: Sequence[PactError] = ()) -> bool:
    """Does the gate fail: a mismatch in any interaction, or a pact that cannot be read?"""
    return bool(errors) or any(not r.passed for r in results)


def summary(results: list[InteractionResult], errors: Sequence[PactError] = ()) -> dict[str, int]:
    counts = {"interactions": 0, "passed": 0, "warnings": 0, "failed": 0, "skipped": 0, "unreadable": len(errors)}
    for result in results:
        counts[result.outcome] += 1
        counts["interactions"] += not result.skipped
    return counts


def _cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\r", " ").replace("\n", "<br>")


def markdown(results: list[InteractionResult], errors: Sequence[PactError] = ()) -> str:
    """A table per consumer: Consumer | Interaction | Operation | Result | Problems."""
    lines: list[str] = []
    if errors:
        lines += ["### Unreadable pact files", "", "| File | Problem | Fix |", "| --- | --- | --- |"]
        lines += [f"| {_cell(e.location)} | {_cell(e.message)} | {_cell(e.fix or '')} |" for e in errors]
        lines.append("")
    for consumer, rows in by_consumer(results).items():
        failed = sum(not r.passed for r in rows)
        lines += [f"### {consumer} → {rows[0].provider} ({failed} of {len(rows)} failed)", "",
                  "| Consumer | Interaction | Operation | Result | Problems |",
                  "| --- | --- | --- | --- | --- |"]  # fmt: skip
        for row in rows:
            problems = "<br>".join(f"**{f.severity}** `{f.rule}`: {_problem(f.message, row)}" for f in row.findings)
            lines.append(f"| {_cell(consumer)} | {_cell(row.description)} | {_cell(row.operation or '—')} | "
                         f"{row.outcome} | {_cell(problems)} |")  # fmt: skip
        lines.append("")
    return "\n".join(lines).rstrip() + "\n" if lines else "No consumer pacts.\n"


def _problem(message: str, row: InteractionResult) -> str:
    """The message without the `consumer, 'interaction': ` prefix the table already shows."""
    prefix = f"{row.consumer}, '{row.description}': "
    return message[len(prefix):] if message.startswith(prefix) else message


def text(results: list[InteractionResult], errors: Sequence[PactError] = ()) -> str:
    lines = [f"{e.location}: error: {e.message}" + (f" Fix: {e.fix}" if e.fix else "") for e in errors]
    for consumer, rows in by_consumer(results).items():
        lines.append(f"{consumer} -> {rows[0].provider}")
        for row in rows:
            lines.append(f"  {row.outcome.upper():8} {row.description} ({row.operation or 'no operation'})")
            for finding in row.findings:
                lines.append(f"    {finding.severity}: {finding.rule}: {_problem(finding.message, row)}")
                if finding.fix and finding.severity in ("error", "warning"):
                    lines.append(f"      fix: {finding.fix}")
    counts = summary(results, errors)
    lines.append(f"{counts['interactions']} interactions: {counts['passed']} passed, {counts['warnings']} with "
                 f"warnings, {counts['failed']} failed; {counts['skipped']} skipped; {counts['unreadable']} "
                 "unreadable pact files")  # fmt: skip
    return "\n".join(lines) + "\n"


def _line(finding: Finding, row: InteractionResult, with_fix: bool = False) -> str:
    line = f"{finding.rule}: {_problem(finding.message, row)}"
    return f"{line}\n  fix: {finding.fix}" if with_fix and finding.fix else line


def _x(value: str) -> str:
    return _NOT_XML.sub("?", value)


def junit_xml(results: list[InteractionResult], errors: Sequence[PactError] = ()) -> str:
    """A testsuite per consumer, a testcase per interaction; mismatches are failures, unreadable pacts errors."""
    root = ET.Element("testsuites", name="pact-vs-spec")
    total = failures = 0
    for consumer, rows in by_consumer(results).items():
        suite = ET.SubElement(root, "testsuite", name=_x(consumer))
        suite_failures = 0
        for row in rows:
            case = ET.SubElement(suite, "testcase", name=_x(row.description),
                                 classname=_x(f"{consumer}.{row.provider}"), file=_x(row.file))  # fmt: skip
            blocking_findings = [f for f in row.findings if f.blocking]
            if row.skipped:
                ET.SubElement(case, "skipped", message=_x(row.findings[0].message if row.findings else "skipped"))
            elif blocking_findings:
                suite_failures += 1
                failure = ET.SubElement(case, "failure", message=_x(_problem(blocking_findings[0].message, row)),
                                        type=blocking_findings[0].rule)  # fmt: skip
                failure.text = _x("\n".join(_line(f, row, with_fix=True) for f in blocking_findings))
            others = [f for f in row.findings if not f.blocking and not row.skipped]
            if others:
                ET.SubElement(case, "system-out").text = _x("\n".join(f"{f.severity}: {_line(f, row)}" for f in others))
        suite.set("tests", str(len(rows)))
        suite.set("failures", str(suite_failures))
        suite.set("errors", "0")
        suite.set("skipped", str(sum(r.skipped for r in rows)))
        total, failures = total + len(rows), failures + suite_failures
    if errors:
        suite = ET.SubElement(root, "testsuite", name="pact files", tests=str(len(errors)), failures="0",
                              errors=str(len(errors)), skipped="0")  # fmt: skip
        for problem in errors:
            case = ET.SubElement(suite, "testcase", name=_x(problem.source), classname="pact-files")
            ET.SubElement(case, "error", message=_x(problem.message), type="pact-unreadable").text = _x(str(problem))
        total += len(errors)
    root.set("tests", str(total))
    root.set("failures", str(failures))
    root.set("errors", str(len(errors)))
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"
