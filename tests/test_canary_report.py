"""The canary's evidence for people: the timeline's buckets and percentiles, the Markdown tables, the HTML report."""

from __future__ import annotations

import random
import re
import statistics
from collections import Counter
from dataclasses import replace
from html.parser import HTMLParser

import pytest

from apiops_pipelines.delivery.canary_analysis import (ALL_OPERATIONS, CANARY, DEFAULT_OPERATIONS, STABLE, Analysis,
                                                       AnalysisEvidence, ArmStats, CanarySettings, Decision, Fault,
                                                       Finding, Observation, OperationEvidence, SimulatedStream,
                                                       StepEvidence, Verdict, run_canary)  # fmt: skip
from apiops_pipelines.delivery.canary_report import (StepBoundary, Timeline, WeightChange, evidence_markdown,
                                                     render_html, summary_markdown,
                                                     weight_changes_markdown)  # fmt: skip
from apiops_pipelines.delivery.canary_report.charts import rate_tick

T0 = 1_700_000_000.0  # 2023-11-14T22:13:20Z
HOSTILE = "GET /x/<script>alert(1)</script>"
OPERATIONS = tuple(profile.operation for profile in DEFAULT_OPERATIONS)


# -- helpers ---------------------------------------------------------------------------------------------------
def _random_observations(seed: int, count: int, seconds: float) -> list[Observation]:
    rng = random.Random(seed)
    found = []
    for _ in range(count):
        status = rng.choice([200] * 30 + [201, 404, 409, 500, 503])
        broken = rng.random() < 0.02
        latency = None if rng.random() < 0.03 else float(round(rng.lognormvariate(3.0, 0.6), 1))
        found.append(Observation(T0 + rng.uniform(0, seconds), rng.choice((CANARY, STABLE)), "GET /orders", status,
                                 latency, broken))  # fmt: skip
    return found


def _quantiles(values: list[float]) -> tuple[float | None, float | None]:
    """p50 and p95 by the textbook (linear interpolation between order statistics), independently of the code."""
    if not values:
        return None, None
    if len(values) == 1:
        return values[0], values[0]
    return statistics.median(values), statistics.quantiles(values, n=20, method="inclusive")[18]


def _brute_force(observations: list[Observation], arm: str, low: float, high: float) -> dict[str, object]:
    chosen = [o for o in observations if o.arm == arm and low <= o.time < high]
    latencies = [o.timed_latency_ms for o in chosen if o.timed_latency_ms is not None]
    n = len(chosen)
    return {"requests": n, "error_rate": sum(o.server_error for o in chosen) / n if n else None,
            "client_error_rate": sum(o.client_error for o in chosen) / n if n else None,
            "quantiles": _quantiles(latencies)}  # fmt: skip


class _Recorder:
    """A judge for run_canary that also keeps what the canary_release asset keeps: timeline, steps, weights."""

    def __init__(self, settings: CanarySettings) -> None:
        self.analysis, self.timeline = Analysis(settings), Timeline()
        self.steps: list[StepBoundary] = []
        self.changes: list[WeightChange] = []

    def observe(self, observation: Observation) -> None:
        self.analysis.observe(observation)
        self.timeline.add(observation)

    def start_step(self, percent: int, now: float) -> None:
        self.analysis.start_step(percent, now)
        self.steps.append(StepBoundary(now, percent))
        self.changes.append(WeightChange(now, percent, 100 - percent, f"step {percent}%"))

    def judge(self, now: float) -> Verdict:
        verdict = self.analysis.judge(now)
        if verdict.final and not any(c.reason.startswith(("rollback", "promotion")) for c in self.changes):
            promoted = verdict.decision is Decision.PASS
            self.changes.append(WeightChange(now + 0.004, 100 if promoted else 0, 0 if promoted else 100,
                                             "promotion" if promoted else f"rollback: {verdict.decision.value}"))
        return verdict


def _run(fault: Fault, seed: int = 7) -> tuple[_Recorder, AnalysisEvidence, float]:
    settings = CanarySettings(interval_s=15.0, operations=OPERATIONS, touched_operations=("GET /orders/{id}",))
    recorder = _Recorder(settings)
    outcome = run_canary(SimulatedStream(seed, fault, start=T0), recorder, settings.steps, start=T0)
    end = T0 + outcome.time_s
    return recorder, recorder.analysis.evidence(end), end


def _arm(requests: int, server: int, client: int, p50: float | None, p95: float | None) -> ArmStats:
    return ArmStats(requests, server, client, server / requests if requests else None,
                    client / requests if requests else None, p50, p95)  # fmt: skip


def _row(operation: str, canary: ArmStats, stable: ArmStats, verdict: str = "ok", reason: str = "",
         **numbers: float | None) -> OperationEvidence:  # fmt: skip
    values: dict = {"p50_ratio": None, "p95_ratio": None, "hl_shift_ms": None, "hl_low_ms": None,
                    "hl_high_ms": None, "server_error_e_value": 1.0, "client_error_e_value": 1.0, "latency_z": None,
                    "latency_p": None, "latency_alpha": None}  # fmt: skip
    values.update(numbers)
    return OperationEvidence(operation, canary, stable, verdict=verdict, reason=reason, **values)


def _evidence(rows: list[OperationEvidence], finding: Finding | None = None,
              decision: Decision = Decision.FAIL, reason: str = "the reason") -> AnalysisEvidence:  # fmt: skip
    pooled = next((r for r in rows if r.operation == ALL_OPERATIONS), None)
    canary = pooled.canary.requests if pooled else 0
    stable = pooled.stable.requests if pooled else 0
    verdict = Verdict(decision, reason, T0 + 42.5, 10, True, canary, stable, canary, finding)
    step = StepEvidence(10, T0, T0 + 42.5, decision.value, reason, tuple(rows))
    budget = {"server errors: all operations": 0.003, "client errors: all operations": 0.0005,
              "latency: all operations": 0.0015}  # fmt: skip
    budget.update({f"server errors: {r.operation}": 0.0002 for r in rows if r.operation != ALL_OPERATIONS})
    return AnalysisEvidence(verdict, (step,), tuple(rows), 0.01, budget)


VOID = {"meta", "br", "hr", "img", "input", "link", "col", "area", "base", "wbr", "source", "track", "embed"}


class _StrictParser(HTMLParser):
    """html.parser forgives everything; this one records every end tag that does not close the open element."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.problems: list[str] = []
        self.tags: Counter[str] = Counter()
        self.attributes: list[tuple[str, str | None]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags[tag] += 1
        self.attributes += attrs
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags[tag] += 1
        self.attributes += attrs

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> while {self.stack[-3:]} are open")
        else:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _parse(document: str) -> _StrictParser:
    parser = _StrictParser()
    parser.feed(document)
    parser.close()
    assert parser.problems == [] and parser.stack == [], (parser.problems, parser.stack)
    return parser


# -- timeline --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("bucket_s", [1.0, 0.5])
def test_buckets_count_requests_errors_and_percentiles_as_brute_force_does(bucket_s: float) -> None:
    observations = _random_observations(11, 4_000, 20.0)
    timeline = Timeline(bucket_s)
    for observation in observations:
        timeline.add(observation)
    series = timeline.series()
    for arm in (CANARY, STABLE):
        assert sum(p.requests for p in series[arm]) == sum(o.arm == arm for o in observations)
        for point in series[arm]:
            expected = _brute_force(observations, arm, point.t, point.t + bucket_s)
            assert point.requests == expected["requests"] == point.window_requests
            assert point.error_rate == expected["error_rate"]
            assert point.client_error_rate == expected["client_error_rate"]
            assert (point.p50_ms, point.p95_ms) == pytest.approx(expected["quantiles"], abs=1e-9)


def test_rolling_rates_and_percentiles_cover_the_window_ending_with_each_bucket() -> None:
    observations = _random_observations(12, 3_000, 30.0)
    timeline = Timeline(1.0)
    for observation in observations:
        timeline.add(observation)
    for arm, points in timeline.series(window_s=5.0).items():
        for point in points:
            expected = _brute_force(observations, arm, point.t - 4.0, point.t + 1.0)
            assert point.window_requests == expected["requests"]
            assert point.error_rate == pytest.approx(expected["error_rate"])
            assert (point.p50_ms, point.p95_ms) == pytest.approx(expected["quantiles"], abs=1e-9)


def test_a_bucket_with_one_failed_request_does_not_plot_100_percent_in_a_rolling_window() -> None:
    timeline = Timeline(1.0)
    for i in range(50):  # ten fine canary requests a second for five seconds, then one that fails, alone
        timeline.add(Observation(T0 + i / 10, CANARY, "GET /orders", 200, 10.0))
    timeline.add(Observation(T0 + 5.5, CANARY, "GET /orders", 503, 2.0))
    assert timeline.series()[CANARY][-1].error_rate == 1.0
    rolled = timeline.series(window_s=5.0)[CANARY][-1]
    assert rolled.error_rate == pytest.approx(1 / 41) and rolled.requests == 1


def test_a_silence_breaks_the_lines_without_a_point_per_silent_bucket() -> None:
    """An hour without requests between two bursts must neither bridge the gap nor list 3,600 empty buckets."""
    timeline = Timeline(1.0)
    timeline.add(Observation(T0, STABLE, "GET /orders", 200, 10.0))
    timeline.add(Observation(T0 + 3_600, STABLE, "GET /orders", 200, 12.0))
    points = timeline.series(window_s=3.0)[STABLE]
    assert len(points) == 5  # the first bucket, the two its window still covers, one empty, the last bucket
    assert [p.error_rate is None for p in points] == [False, False, False, True, False]


def test_the_latency_cap_bounds_memory_yet_counts_and_rates_stay_exact() -> None:
    rng = random.Random(5)
    observations = [Observation(T0 + i / 30_000, CANARY, "GET /orders", 500 if i % 50 == 0 else 200,
                                rng.lognormvariate(3.0, 0.5)) for i in range(30_000)]  # fmt: skip
    capped, again = Timeline(1.0, max_samples=5_000), Timeline(1.0, max_samples=5_000)
    for observation in observations:
        capped.add(observation)
        again.add(observation)
    assert capped.kept_samples() == 5_000  # one bucket, one arm: the cap, not the 29,400 latencies
    assert capped.totals(CANARY) == (30_000, 600, 0)
    point = capped.series()[CANARY][0]
    assert point.requests == 30_000 and point.error_rate == 600 / 30_000
    exact = _quantiles([o.timed_latency_ms for o in observations if o.timed_latency_ms is not None])
    assert point.p50_ms == pytest.approx(exact[0], rel=0.03)
    assert point.p95_ms == pytest.approx(exact[1], rel=0.03)
    assert again.series() == capped.series()  # the reservoir is seeded: the same requests, the same report


# -- markdown --------------------------------------------------------------------------------------------------
def _constructed() -> AnalysisEvidence:
    pooled = _row(ALL_OPERATIONS, _arm(1_234, 130, 12, 21.0, 250.0), _arm(11_105, 11, 333, 20.0, 98.5),
                  p95_ratio=250 / 98.5, hl_shift_ms=1.5, hl_low_ms=0.5, hl_high_ms=2.5, server_error_e_value=412.0,
                  client_error_e_value=0.8, latency_z=1.25, latency_p=0.1056, latency_alpha=0.0005)  # fmt: skip
    failing = _row("POST /orders", _arm(120, 12, 0, 40.0, 2_300.0), _arm(1_080, 1, 20, 39.0, 95.0), "fail",
                   "POST /orders: server errors 10.0% (12 of 120) on the canary",
                   hl_shift_ms=50.0, hl_low_ms=34.0, hl_high_ms=65.0, server_error_e_value=5_001.0)  # fmt: skip
    busy = _row("GET /orders", _arm(1_114, 118, 12, 20.0, 60.0), _arm(10_025, 10, 313, 20.0, 61.0))
    return _evidence([pooled, busy, failing])


def test_markdown_tables_hold_the_numbers_of_both_arms_and_the_statistics() -> None:
    text = evidence_markdown(_constructed(), [], started_at=T0)
    pooled = next(line for line in text.splitlines() if line.startswith("| all operations"))
    for expected in ("1,234 / 11,105", "130 (10.5%) / 11 (0.10%)", "12 (0.97%) / 333 (3.0%)", "21.0 / 20.0",
                     "250 / 98.5", "2.54×", "+1.5 \\[0.50, 2.5\\]", "412 / 333", "0.80 / 2,000",
                     "z=1.25, p=0.106, α 0.0005"):  # fmt: skip
        assert expected in pooled, (expected, pooled)
    failing = next(line for line in text.splitlines() if line.startswith("| POST /orders"))
    assert "2,300 / 95.0" in failing and "+50.0 \\[34.0, 65.0\\]" in failing and failing.endswith("| **fail** |")
    assert "- POST /orders: server errors 10.0% (12 of 120) on the canary" in text


def test_the_failing_operation_is_listed_right_after_all_operations() -> None:
    recorder, evidence, end = _run(Fault("slow POST", latency_factor=2.0, operation="POST /orders"))
    assert evidence.verdict.decision is Decision.FAIL and evidence.verdict.finding.operation == "POST /orders"
    text = evidence_markdown(evidence, recorder.changes, started_at=T0, ended_at=end)
    rows = [line.split(" | ")[0] for line in text.split("### Whole analysis")[1].splitlines() if line.startswith("| ")]
    assert rows[1:3] == ["| all operations", "| POST /orders"]  # rows[0] is the header
    assert evidence.verdict.reason.split(" (")[0].replace("<", "&lt;") in text


def test_a_table_of_100_operations_shows_the_deciding_rows_and_counts_the_rest() -> None:
    rows = [_row(ALL_OPERATIONS, _arm(5_050, 0, 0, 10.0, 20.0), _arm(50_500, 0, 0, 10.0, 20.0))]
    rows += [_row(f"GET /items/{i:03d}", _arm(i, 0, 0, 10.0, 20.0), _arm(10 * i, 0, 0, 10.0, 20.0))
             for i in range(1, 101)]  # fmt: skip
    rows[5] = replace(rows[5], verdict="fail", reason="GET /items/005: too slow")  # few requests, but failing
    text = evidence_markdown(_evidence(rows), [], started_at=T0, max_rows=25,
                             touched_operations=("GET /items/010",))  # fmt: skip
    table = [line for line in text.split("### Step")[0].splitlines() if line.startswith("| ")][1:]
    assert len(table) == 26  # all operations and 25 more
    names = [line.split(" | ")[0] for line in table[:5]]
    assert names == ["| all operations", "| GET /items/005", "| **GET /items/010**", "| GET /items/100",
                     "| GET /items/099"]  # fmt: skip
    assert "… and 75 more operations (see the HTML report)" in text


def test_weight_changes_have_utc_times_to_the_millisecond_and_seconds_since_the_start() -> None:
    changes = [WeightChange(T0, 10, 90, "step 10%"), WeightChange(T0 + 12.3456, 0, 100, "rollback | 5xx")]
    text = weight_changes_markdown(changes, started_at=T0)
    assert "| 2023-11-14T22:13:20.000Z | +0.000 s | 10 | 90 | 10.0% | step 10% |" in text
    assert "| 2023-11-14T22:13:32.346Z | +12.346 s | 0 | 100 | 0% | rollback \\| 5xx |" in text
    assert weight_changes_markdown([], started_at=T0) == "No weight change was recorded."


def test_the_summary_gives_decision_reason_requests_and_duration() -> None:
    text = summary_markdown(_constructed(), started_at=T0)
    assert text.startswith("**Rolled back** in step 10%, +42.500 s after the canary started: the reason.")
    assert "1,234 canary and 11,105 stable requests over 42.5 s" in text and "\n" not in text
    assert summary_markdown(None, started_at=T0).startswith("**Initial release**: no canary comparison")


def test_markdown_escapes_what_would_break_a_table_or_become_html() -> None:
    row = _row("GET /a|b/<img src=x onerror=alert(1)>/*_`x`_*", _arm(3, 0, 0, 1.0, 2.0), _arm(3, 0, 0, 1.0, 2.0))
    text = evidence_markdown(_evidence([row], reason="bad\n| injected"), [], started_at=T0)
    assert "<img" not in text and "\n| injected" not in text
    assert "GET /a\\|b/&lt;img src=x onerror=alert(1)&gt;/\\*\\_\\`x\\`\\_\\*" in text


# -- html ------------------------------------------------------------------------------------------------------
def test_the_report_parses_cleanly_with_a_chart_each_and_the_steps_and_verdict() -> None:
    recorder, evidence, end = _run(Fault())
    assert evidence.verdict.decision is Decision.PASS
    document = render_html(api="bookstore", commit="a" * 40, stable_commit="b" * 40, evidence=evidence,
                           timeline=recorder.timeline, weight_changes=recorder.changes, steps=recorder.steps,
                           started_at=T0, ended_at=end)  # fmt: skip
    parsed = _parse(document)
    figures = document.count('<figure class="chart">')
    assert figures == 4 and parsed.tags["svg"] == figures and parsed.tags["script"] == 0
    text = " ".join(parsed.text)
    for step in recorder.steps:
        assert re.search(rf">{step.percent}%<title>step {step.percent}% from \+", document)
    assert "promoted" in text and evidence.verdict.reason in text and "Promoted" in text
    assert "aaaaaaaaaaaa" in text and "bbbbbbbbbbbb" in text
    assert "Alpha budget" in text and "Weight changes" in text and "2023-11-14T22:13:20.000Z" in text


def test_a_hostile_operation_name_is_text_everywhere_in_the_report() -> None:
    finding = Finding("server errors", HOSTILE, T0 + 3, 10, "50.0% (5 of 10)", "0.0% (0 of 90)", "e-value 900",
                      0.0002, f"{HOSTILE}: server errors")  # fmt: skip
    rows = [_row(ALL_OPERATIONS, _arm(10, 5, 0, 10.0, 20.0), _arm(90, 0, 0, 10.0, 20.0)),
            _row(HOSTILE, _arm(10, 5, 0, 10.0, 20.0), _arm(90, 0, 0, 10.0, 20.0), "fail", f"{HOSTILE}: failed")]
    evidence = _evidence(rows, finding, reason=f"{HOSTILE}: server errors")
    timeline = Timeline()
    timeline.add(Observation(T0 + 1, CANARY, HOSTILE, 500, 3.0))
    document = render_html(api="<b>api</b>", commit="c" * 40, stable_commit="d" * 40, evidence=evidence,
                           timeline=timeline, weight_changes=[WeightChange(T0 + 3, 0, 100, f"rollback: {HOSTILE}")],
                           steps=[StepBoundary(T0, 10)], started_at=T0, ended_at=T0 + 3,
                           touched_operations=(HOSTILE,))  # fmt: skip
    assert "<script" not in document.lower() and "<b>api" not in document
    parsed = _parse(document)
    assert parsed.tags["script"] == 0 and parsed.tags["b"] == 0
    assert not [name for name, _ in parsed.attributes if name.startswith("on")]
    text = "".join(parsed.text)
    assert text.count(HOSTILE) >= 5  # the finding, the reasons, both tables' rows, the weight log, the budget


def _no_stable_timeline() -> Timeline:
    timeline = Timeline()
    for i in range(30):
        timeline.add(Observation(T0 + i / 10, CANARY, "GET /orders", 200, 10.0 + i % 3))
    return timeline


def _last_step_without_stable() -> AnalysisEvidence:
    nobody = _arm(0, 0, 0, None, None)
    rows = [_row(ALL_OPERATIONS, _arm(300, 0, 0, 10.0, 12.0), nobody),
            _row("GET /orders", _arm(300, 0, 0, None, None), nobody)]  # fmt: skip
    return _evidence(rows, decision=Decision.PASS, reason="step 100%: 300 canary requests in 30 s")


EDGE_CASES = {
    "initial release": (None, _no_stable_timeline),
    "the 100% step": (_last_step_without_stable(), _no_stable_timeline),
    "no requests at all": (_evidence([], decision=Decision.INSUFFICIENT_DATA, reason="not enough evidence"), Timeline),
    "a single bucket": (_constructed(), lambda: _timeline_of([Observation(T0 + 0.2, STABLE, "GET /orders", 200, 5.0)])),
}  # fmt: skip


def _timeline_of(observations: list[Observation]) -> Timeline:
    timeline = Timeline()
    for observation in observations:
        timeline.add(observation)
    return timeline


@pytest.mark.parametrize("case", list(EDGE_CASES))
def test_edge_cases_render_in_markdown_and_html(case: str) -> None:
    evidence, make_timeline = EDGE_CASES[case]
    stable_commit = None if evidence is None else "e" * 40
    document = render_html(api="bookstore", commit="f" * 40, stable_commit=stable_commit, evidence=evidence,
                           timeline=make_timeline(), started_at=T0, ended_at=T0 + 0.5)  # fmt: skip
    parsed = _parse(document)
    assert parsed.tags["svg"] == 4
    text = " ".join(parsed.text)
    markdown = evidence_markdown(evidence, [], started_at=T0, ended_at=T0 + 0.5)
    if evidence is None:
        assert "Initial release: no canary comparison" in text and "none (initial release)" in text
        assert "Initial release" in markdown
    else:
        assert evidence.verdict.reason in text and evidence.verdict.reason in markdown
    if case == "no requests at all":
        assert "no requests" in text and "No request reached either arm." in markdown


def test_rate_ticks_print_every_step_exactly() -> None:
    """A 0.25% step printed with one decimal read 0.2%, 0.5%, 0.8%: ticks that lie about their gridlines."""
    assert [rate_tick(v / 10_000, 0.0025) for v in (0, 25, 50, 75)] == ["0.00%", "0.25%", "0.50%", "0.75%"]
    assert [rate_tick(v / 100, 0.1) for v in (0, 10, 20)] == ["0%", "10%", "20%"]
