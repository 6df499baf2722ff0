"""The nightly's fuzzing: Schemathesis with a fresh seed (new cases every night), and the replay of every
failing case the API's fuzz runs ever recorded (regression memory, fuzz/memory.py). Failures the fresh run
finds are recorded too, so tomorrow replays them whatever its seed."""

from __future__ import annotations

from apiops_pipelines.fuzz import FuzzConfigError, FuzzRunError, TargetNotAllowed, run_fuzz
from apiops_pipelines.fuzz import markdown as fuzz_markdown
from apiops_pipelines.fuzz.memory import FuzzMemory
from apiops_pipelines.fuzz.replay import FAILS_AGAIN, ReplayReport, replay_cases
from apiops_pipelines.nightly.live_gates import LiveTarget
from apiops_pipelines.nightly.model import ERROR, FAILED, PASSED, SKIPPED, GateOutcome


def fuzz_gate(target: LiveTarget, memory: FuzzMemory) -> GateOutcome:
    production = target.sources.production
    config, folder = production.definition.config.fuzz, target.reports / "fuzz"
    try:
        report = run_fuzz(production.bundle.data, target.url, config, folder,
                          allow_hosts=target.allow_hosts, environ=target.environ)  # seed=None: a fresh one
    except (FuzzConfigError, TargetNotAllowed, FuzzRunError) as exc:
        return GateOutcome("fuzz_checks_pass", ERROR, 1, f"fuzzing could not run: {exc}"[:2000])
    table = folder / "fuzz.md"
    table.write_text(fuzz_markdown(report), encoding="utf-8")
    memory.record(target.api, target.commit, report, base_url=target.url)
    blocking = sum(group.blocking for group in report.failures) + len(report.errors)
    links = {"failures": table, **{kind: report.files[kind] for kind in ("junit", "har")
                                   if report.files[kind].is_file()}}  # fmt: skip
    return GateOutcome("fuzz_checks_pass", FAILED if report.blocking else PASSED, blocking, report.headline(), links)


def replay_gate(target: LiveTarget, memory: FuzzMemory) -> GateOutcome:
    """Replays what was recorded before tonight's fresh run (called first, so tonight's own finds are not
    counted twice)."""
    cases, problems = memory.cases(target.api)
    folder = target.reports / "fuzz-replay"
    if not cases and not problems:
        return GateOutcome("fuzz_replay", SKIPPED, 0, "no fuzz failure recorded for this API yet")
    config = target.sources.production.definition.config.fuzz
    try:
        report = replay_cases(target.sources.production.bundle.data, target.url, cases, config,
                              allow_hosts=target.allow_hosts, environ=target.environ)  # fmt: skip
    except (FuzzConfigError, TargetNotAllowed) as exc:
        return GateOutcome("fuzz_replay", ERROR, 1, f"the replay could not run: {exc}")
    folder.mkdir(parents=True, exist_ok=True)
    table = folder / "replay.md"
    table.write_text(replay_markdown(report, problems), encoding="utf-8")
    failing = [r for r in report.results if r.blocking]
    result = FAILED if failing or problems else PASSED
    summary = report.headline() + (f"; {len(problems)} unreadable line(s) in {memory.file(target.api)}"
                                   if problems else "")  # fmt: skip
    if failing:
        summary += ": " + "; ".join(f"{r.case.check} on {r.case.method} {r.case.target}" for r in failing[:5])
    return GateOutcome("fuzz_replay", result, len(failing) + len(problems), summary[:2000], {"cases": table})


def replay_markdown(report: ReplayReport, problems: list[str]) -> str:
    lines = [f"**{'blocked' if report.blocking or problems else 'passed'}**: {report.headline()}", ""]
    if report.results:
        lines += ["| Outcome | Blocks | Check | Request | Found | Now |", "| --- | --- | --- | --- | --- | --- |"]
        for r in sorted(report.results, key=lambda r: (not r.blocking, r.outcome != FAILS_AGAIN)):
            found = f"{r.case.status or '—'} at {r.case.commit[:12]}"
            request = _cell(f"{r.case.method} {r.case.target}")
            lines.append(f"| {r.outcome} | {'yes' if r.blocking else 'no'} | `{r.case.check}` | {request} | {found} | "
                         f"{_cell(r.detail[:300])} |")  # fmt: skip
        lines.append("")
        for r in report.results:
            if r.outcome == FAILS_AGAIN:
                lines += [f"#### {r.case.check} on {r.case.operation}", "", "```sh", r.curl, "```", ""]
    lines += [f"- {note}" for note in [*report.notes, *problems]]
    return "\n".join(lines).rstrip() + "\n"


def _cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\r", " ").replace("\n", "<br>")
