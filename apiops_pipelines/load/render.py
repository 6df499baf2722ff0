"""Load results for people: requests/s, percentiles per endpoint, errors, and the gates' verdicts."""

from __future__ import annotations

from collections.abc import Iterable

from apiops_pipelines.load.gates import GateResult
from apiops_pipelines.load.stats import LoadReport


def markdown(report: LoadReport, gates: Iterable[GateResult] = ()) -> str:
    total = report.total
    lines = [f"{total.requests} requests in {report.duration_s:g} s by {report.users} users over "
             f"{report.processes} locust process(es), {total.rps:.1f} requests/s, {total.error_rate:.2%} errors "
             f"(locustfile: {report.locustfile})", ""]  # fmt: skip
    for gate in gates:
        lines.append(f"- **{gate.gate}**: {'passed' if gate.passed else 'blocked'}: {gate.summary}")
        lines += [f"  - {f.message}" for f in gate.findings if f.severity in ("error", "warning")]
    lines += ["", "| Endpoint | Requests | Requests/s | Failures | p50 ms | p95 ms | p99 ms | max ms |",
              "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]  # fmt: skip
    for stats in [*report.endpoints, total]:
        name = "**all**" if stats is total else _cell(stats.key)
        lines.append(f"| {name} | {stats.requests} | {stats.rps:.1f} | {stats.failures} | {stats.p50_ms:g} | "
                     f"{stats.p95_ms:g} | {stats.p99_ms:g} | {stats.max_ms:.0f} |")  # fmt: skip
    if report.errors:
        lines += ["", "| Endpoint | Error | Occurrences |", "| --- | --- | ---: |"]
        lines += [f"| {_cell(f'{e.method} {e.name}')} | {_cell(e.error[:300])} | {e.occurrences} |"
                  for e in report.errors]  # fmt: skip
    if report.warnings:
        lines += ["", "Locust warned:", ""] + [f"- {_cell(w)}" for w in report.warnings]
    return "\n".join(lines).rstrip() + "\n"


def _cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\r", " ").replace("\n", "<br>")
