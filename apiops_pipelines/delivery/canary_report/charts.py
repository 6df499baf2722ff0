"""The report's charts: both arms over time, with the steps, the weight changes and the decision marked.

Four charts, always all four (an empty one says "no requests" rather than vanishing): server-error rate and
4xx rate over a rolling window (a bucket with one failed request would otherwise plot 100%), p95 latency over
the same window, and requests per second per bucket, where each step's shift of traffic shows. x is seconds
since the canary started; a point sits at the end of the window it summarizes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from apiops_pipelines.delivery.canary_analysis.evidence import Decision, Verdict
from apiops_pipelines.delivery.canary_analysis.observation import CANARY, STABLE
from apiops_pipelines.delivery.canary_report import formatting as fmt
from apiops_pipelines.delivery.canary_report.svg_chart import Line, Marker, line_chart
from apiops_pipelines.delivery.canary_report.timeline import SeriesPoint, StepBoundary, Timeline, WeightChange

COLORS = {CANARY: "#e66100", STABLE: "#1f5fbf"}  # orange and blue: apart for the common colour blindnesses


@dataclass(frozen=True)
class Chart:
    title: str
    svg: str


def markers(steps: Sequence[StepBoundary], weight_changes: Sequence[WeightChange], verdict: Verdict | None,
            started_at: float) -> list[Marker]:  # fmt: skip
    found = [Marker(s.time - started_at, f"{s.percent}%", "step",
                    f"step {s.percent}% from {fmt.since(s.time, started_at)}") for s in steps]  # fmt: skip
    for change in weight_changes:
        found.append(Marker(change.time - started_at, "", "weight",
                            f"{fmt.since(change.time, started_at)}: canary {change.canary_weight}, stable "
                            f"{change.stable_weight} ({change.reason})"))  # fmt: skip
    if verdict is not None and verdict.final:
        promoted = verdict.decision is Decision.PASS
        kind, label = ("promotion", "promoted") if promoted else ("rollback", "rollback")
        found.append(Marker(verdict.time - started_at, label, kind,
                            f"{fmt.since(verdict.time, started_at)}: {verdict.decision.value}: {verdict.reason}"))
    return found


def _decimals(step: float) -> int:
    """The fewest decimals that print every multiple of `step` exactly (a 0.25 step needs two, not one)."""
    return next((d for d in range(7) if abs(round(step, d) - step) <= 1e-9 * max(step, 1e-12)), 6)


def rate_tick(value: float, step: float) -> str:
    return f"{100 * value:.{_decimals(100 * step)}f}%"


def number_tick(value: float, step: float) -> str:
    return f"{value:,.{_decimals(step)}f}"


def build_charts(timeline: Timeline, *, started_at: float, ended_at: float | None, steps: Sequence[StepBoundary],
                 weight_changes: Sequence[WeightChange], verdict: Verdict | None,
                 window_s: float = 5.0) -> list[Chart]:  # fmt: skip
    series = timeline.series(window_s)
    bucket, span = timeline.bucket_s, timeline.span
    marks = markers(steps, weight_changes, verdict, started_at)
    # The first and last buckets usually reach past the requests (the run starts and ends between bucket edges):
    # the last point sits at the run's end, and a rate per second divides by the part of its bucket the run
    # covered. A point covering less than half its bucket is left out of that chart: a few requests in a few
    # milliseconds would otherwise plot a spike or a dip that never happened.
    end = ended_at if ended_at is not None else timeline.last_time if timeline.last_time is not None else started_at
    begin = timeline.first_time if timeline.first_time is not None else started_at
    xs = [m.x for m in marks] + [0.0, end - started_at] + ([span[0] - started_at] if span is not None else [])
    x_range = (min(xs), max(xs))
    only_bucket = span is not None and span[1] - span[0] <= bucket * 1.0000001

    def x(point: SeriesPoint) -> float:
        return min(point.t + bucket, max(end, point.t)) - started_at

    def y(point: SeriesPoint, value: str) -> float | None:
        if value != "rps":
            return getattr(point, value)
        covered = min(point.t + bucket, end) - max(point.t, begin)
        if covered < 0.5 * bucket and not only_bucket:
            return None
        return point.requests / max(covered, 0.1 * bucket)

    def lines(value: str) -> list[Line]:
        return [Line(arm, COLORS[arm], [(x(p), y(p, value)) for p in series[arm]]) for arm in (CANARY, STABLE)]

    window = f"{window_s:g} s" if window_s > bucket else f"{bucket:g} s"
    specs = (
        (f"Server errors (5xx and broken sessions), rolling {window}", "error_rate", "error rate", rate_tick, 0.01),
        (f"Client errors (4xx), rolling {window}", "client_error_rate", "4xx rate", rate_tick, 0.01),
        (f"p95 latency, rolling {window} (answered requests without server errors)", "p95_ms", "p95 (ms)",
         number_tick, 1.0),
        (f"Requests per second ({bucket:g} s buckets)", "rps", "requests / s", number_tick, 1.0),
    )  # fmt: skip
    return [Chart(title, line_chart(title=title, lines=lines(value), markers=marks, x_range=x_range,
                                    y_label=y_label, y_format=tick, y_minimum_top=minimum, chart_id=f"chart{n}"))
            for n, (title, value, y_label, tick, minimum) in enumerate(specs, 1)]  # fmt: skip
