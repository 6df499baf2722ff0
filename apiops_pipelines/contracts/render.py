"""Provider verification for people (a Markdown table per consumer) and for CI (JUnit XML)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from apiops_pipelines.contracts.model import ContractVerification, InteractionVerdict, Mismatch

_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")  # characters XML 1.0 cannot carry
_RESULT = {"passed": "✅ passed", "failed": "❌ failed", "pending-failed": "⚠️ failed (pending, not blocking)"}


def markdown(verification: ContractVerification) -> str:
    """`Consumer | Interaction | Provider states | Result | Mismatches`, one table per consumer."""
    lines = [f"**{verification.status}**: {verification.headline()}", ""]
    if verification.problems:
        lines += ["### Pact files that could not be verified", "", "| File | Problem | Fix |", "| --- | --- | --- |"]
        lines += [f"| {_cell(p.location)} | {_cell(p.message)} | {_cell(p.fix or '')} |" for p in verification.problems]
        lines.append("")
    for consumer in verification.consumers:
        rows = [v for v in verification.interactions if v.consumer == consumer]
        failed = sum(v.outcome != "passed" for v in rows)
        lines += [f"### {consumer} → {verification.provider} ({failed} of {len(rows)} failed)", "",
                  "| Consumer | Interaction | Provider states | Result | Mismatches |",
                  "| --- | --- | --- | --- | --- |"]  # fmt: skip
        for row in rows:
            states = "<br>".join(_cell(s) for s in row.provider_states) or "—"
            problems = "<br>".join(_cell(_describe(m)) for m in row.mismatches)
            lines.append(f"| {_cell(consumer)} | {_cell(row.description)} | {states} | {_RESULT[row.outcome]} | "
                         f"{problems} |")  # fmt: skip
        lines.append("")
    if verification.notes:
        lines += ["### Notes", ""] + [f"- {_cell(note)}" for note in verification.notes] + [""]
    return "\n".join(lines).rstrip() + "\n"


def junit_xml(verification: ContractVerification) -> str:
    """One test suite per consumer, one test case per interaction; unusable pact files as errors."""
    counts = verification.counts
    root = ET.Element("testsuites", name=f"contract verification of {_x(verification.provider)}",
                      tests=str(counts["interactions"] + len(verification.problems)),
                      failures=str(counts["failed"]), errors=str(len(verification.problems)))  # fmt: skip
    if verification.problems:
        suite = ET.SubElement(root, "testsuite", name="pact files", tests=str(len(verification.problems)),
                              failures="0", errors=str(len(verification.problems)))  # fmt: skip
        for problem in verification.problems:
            case = ET.SubElement(suite, "testcase", name=_x(problem.location), classname="pact files")
            ET.SubElement(case, "error", message=_x(problem.message)).text = _x(problem.fix or "")
    for consumer in verification.consumers:
        rows = [v for v in verification.interactions if v.consumer == consumer]
        suite = ET.SubElement(root, "testsuite", name=_x(f"{consumer} -> {verification.provider}"),
                              tests=str(len(rows)), failures=str(sum(v.blocking for v in rows)), errors="0")
        for row in rows:
            _testcase(suite, row, verification.provider)
    if not verification.interactions and not verification.problems:
        suite = ET.SubElement(root, "testsuite", name="no consumers", tests="1", failures="0", errors="0", skipped="1")
        case = ET.SubElement(suite, "testcase", name="no consumer pacts", classname=_x(verification.provider))
        ET.SubElement(case, "skipped", message=_x(verification.headline()))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _testcase(suite: ET.Element, row: InteractionVerdict, provider: str) -> None:
    name = row.description + (f" (given {'; '.join(row.provider_states)})" if row.provider_states else "")
    case = ET.SubElement(suite, "testcase", name=_x(name), classname=_x(f"{row.consumer}.{provider}"))
    if row.pact_file:
        case.set("file", _x(row.pact_file))
    details = "\n".join(_describe(m) for m in row.mismatches)
    if row.outcome == "failed":
        ET.SubElement(case, "failure", message=_x(_first_line(row)), type="PactMismatch").text = _x(details)
    elif row.outcome == "pending-failed":
        ET.SubElement(case, "skipped", message=_x("pending interaction failed: " + _first_line(row)))


def _first_line(row: InteractionVerdict) -> str:
    return row.mismatches[0].message if row.mismatches else "failed"


def _describe(mismatch: Mismatch) -> str:
    where = f" at {mismatch.path}" if mismatch.path else ""
    if mismatch.message or mismatch.expected is None:
        return f"{mismatch.kind}{where}: {mismatch.message}"
    return f"{mismatch.kind}{where}: expected {_short(mismatch.expected)}, got {_short(mismatch.actual or 'nothing')}"


def _short(text: str, limit: int = 160) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\r", " ").replace("\n", "<br>")


def _x(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)
