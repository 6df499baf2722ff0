"""A window as Markdown for Dagster metadata: the per-operation table of one API (operations with server errors
first, then the busiest; capped, with a count of the rest), and the verdict of every API judged."""

from __future__ import annotations

from apiops_pipelines.monitor.slo import SloVerdict
from apiops_pipelines.monitor.window import ApiWindow, TrafficStats

MAX_ROWS = 40
_HEADER = ("| operation | requests | req/s | 5xx + broken | error rate | 4xx rate | p50 ms | p95 ms | p99 ms |\n"
           "|---|---:|---:|---:|---:|---:|---:|---:|---:|")  # fmt: skip


def operations_table(window: ApiWindow) -> str:
    rows = sorted(window.operations.items(), key=lambda item: (-item[1].server_errors, -item[1].requests, item[0]))
    lines = [_HEADER] + [_row(name, stats, window.window_s) for name, stats in rows[:MAX_ROWS]]
    lines.append(_row("**all**", window.total, window.window_s))
    if len(rows) > MAX_ROWS:
        lines.append(f"\n{len(rows) - MAX_ROWS} more operation(s) not shown (fewer server errors and requests).")
    return "\n".join(lines)


def verdicts_table(entries: list[tuple[ApiWindow, SloVerdict, str]]) -> str:
    """One row per API judged (breaches first): the verdict, the numbers behind it, the SLO, the release."""
    lines = ["| API | verdict | requests | req/s | error rate | p95 ms | p99 ms | SLO | release |",
             "|---|---|---:|---:|---:|---:|---:|---|---|"]  # fmt: skip
    for window, verdict, release in sorted(entries, key=lambda e: (not e[1].breached, e[0].api)):
        total = window.total
        lines.append("| " + " | ".join([
            _cell(window.api), verdict.decision, str(total.requests), f"{window.requests_per_s:.2f}",
            f"{total.error_rate:.2%}", _ms(total.p95_ms), _ms(total.p99_ms), _cell(verdict.stated or "—"),
            _cell(release)]) + " |")  # fmt: skip
    return "\n".join(lines)


def _row(name: str, stats: TrafficStats, window_s: float) -> str:
    cells = [_cell(name), str(stats.requests), f"{stats.requests / window_s:.2f}", str(stats.server_errors),
             f"{stats.error_rate:.2%}", f"{stats.client_error_rate:.2%}",
             _ms(stats.p50_ms), _ms(stats.p95_ms), _ms(stats.p99_ms)]  # fmt: skip
    return "| " + " | ".join(cells) + " |"


def _ms(value: float | None) -> str:
    return "—" if value is None else f"{value:g}"


def _cell(text: str) -> str:
    # operation names come from the spec's paths: a pipe or a newline there would break the table
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")
