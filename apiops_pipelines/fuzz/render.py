"""Fuzz results for people: failures grouped by check and operation, each with curl reproducers."""

from __future__ import annotations

from apiops_pipelines.fuzz.model import FuzzReport


def markdown(report: FuzzReport) -> str:
    lines = [f"**{'blocked' if report.blocking else 'passed'}**: {report.headline()}", ""]
    if report.failures:
        lines += ["| Check | Operation | Cases | Blocks | What happened |", "| --- | --- | --- | --- | --- |"]
        for group in report.failures:
            message = (group.examples[0].message if group.examples else group.title).strip().splitlines()[0]
            lines.append(f"| `{group.check}` ({group.code} {_cell(group.title)}) | {_cell(group.operation)} | "
                         f"{group.cases} | {'yes' if group.blocking else 'no'} | {_cell(message)} |")  # fmt: skip
        lines.append("")
        for group in report.failures:
            lines += [f"#### {group.title} on {group.operation} (`{group.check}`)", ""]
            for example in group.examples:
                status = f", HTTP {example.status}" if example.status is not None else ""
                lines += [f"Case `{example.case_id}` ({example.phase} phase{status}):", ""]
                if example.message.strip() != group.title:
                    lines += ["```text", example.message.strip().replace("```", "` ` `"), "```", ""]
                lines += ["```sh", example.curl, "```", ""]
    if report.errors:
        lines += ["| Operation | Error | Occurrences | Message |", "| --- | --- | --- | --- |"]
        lines += [f"| {_cell(e.operation)} | {_cell(e.kind)} | {e.occurrences} | {_cell(e.message[:300])} |"
                  for e in report.errors]  # fmt: skip
        lines.append("")
    lines += [f"Replay with: `{report.replay}`", ""]
    if report.notes:
        lines += ["Notes:", ""] + [f"- {_inline(note)}" for note in report.notes] + [""]
    return "\n".join(lines).rstrip() + "\n"


def _cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\r", " ").replace("\n", "<br>")


def _inline(text: str) -> str:
    return " ".join(text.split())
