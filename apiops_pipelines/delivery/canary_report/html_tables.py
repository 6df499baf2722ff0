"""The report's tables as HTML: operations per step and overall, the alpha budget, the weight-change log.

The same rows and texts as the Markdown (table_rows.py), with each arm in its own column and the reasons on
their own line under their row. Every string is escaped with `e()`, numbers included: one rule is easier to
keep than a judgement of which texts are safe.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from html import escape

from apiops_pipelines.delivery.canary_analysis.alpha_budget import ALL_OPERATIONS, LATENCY, SHARES
from apiops_pipelines.delivery.canary_analysis.evidence import OperationEvidence, StepEvidence
from apiops_pipelines.delivery.canary_report import formatting as fmt
from apiops_pipelines.delivery.canary_report.table_rows import ordered_rows, row_text, step_heading
from apiops_pipelines.delivery.canary_report.timeline import WeightChange

PAIRED = ("Requests", "5xx", "4xx", "p50 ms", "p95 ms")
SINGLE = ("p95 ratio", "HL shift ms [95% CI]", "5xx e-value / fails at", "4xx e-value / fails at",
          "Mann-Whitney (last look)", "Verdict")  # fmt: skip


def e(text: object) -> str:
    return escape(str(text), quote=True)


def _cells(values: Sequence[str], css: str = "num") -> str:
    return "".join(f'<td class="{css}">{e(v)}</td>' for v in values)


def operations_table(rows: Sequence[OperationEvidence], budget: Mapping[str, float], *,
                     touched: Collection[str] = (), max_rows: int | None = None) -> str:  # fmt: skip
    if not rows:
        return "<p>No request reached either arm.</p>"
    shown, hidden = ordered_rows(rows, touched=touched, max_rows=max_rows)
    head = ('<tr><th rowspan="2">Operation</th>' + "".join(f'<th colspan="2">{e(h)}</th>' for h in PAIRED)
            + "".join(f'<th rowspan="2">{e(h)}</th>' for h in SINGLE) + "</tr><tr>"
            + '<th class="canary">canary</th><th class="stable">stable</th>' * len(PAIRED) + "</tr>")  # fmt: skip
    body, width = [], 1 + 2 * len(PAIRED) + len(SINGLE)
    for row in shown:
        t = row_text(row, budget)
        badge = ' <span class="badge">touched</span>' if row.operation in touched else ""
        pairs = [v for pair in (t.requests, t.server_errors, t.client_errors, t.p50_ms, t.p95_ms) for v in pair]
        verdict = "fail" if t.verdict == "fail" else "ok" if t.verdict == "ok" else "warn"
        body.append(f'<tr class="row-{verdict}"><td class="op"><code>{e(t.operation)}</code>{badge}</td>'
                    + _cells(pairs) + _cells((t.p95_ratio, t.shift_ms, t.server_e, t.client_e))
                    + _cells((t.latency,), "stat") + f'<td class="verdict-{verdict}">{e(t.verdict)}</td></tr>')
        if t.reason:
            body.append(f'<tr class="reason"><td colspan="{width}">{e(t.reason)}</td></tr>')
    if hidden:
        body.append(f'<tr class="reason"><td colspan="{width}">… and {hidden:,} more operations</td></tr>')
    return f'<div class="scroll"><table class="ops"><thead>{head}</thead><tbody>{"".join(body)}</tbody></table></div>'


def evidence_sections(overall: Sequence[OperationEvidence], steps: Sequence[StepEvidence],
                      budget: Mapping[str, float], *, started_at: float, touched: Collection[str] = (),
                      max_rows: int | None = None) -> str:  # fmt: skip
    parts = ["<h2>Whole analysis, per operation</h2>", operations_table(overall, budget, touched=touched,
                                                                         max_rows=max_rows)]  # fmt: skip
    for step in steps:
        parts.append(f'<h2 class="step-{e(step.verdict.replace(" ", "-"))}">{e(step_heading(step, started_at))}</h2>')
        if step.reason:
            parts.append(f'<p class="step-reason">{e(step.reason)}</p>')
        if len(steps) == 1:  # the whole analysis is this step: its table would repeat the one above
            parts.append("<p class='note'>The whole analysis above is this step: the canary ran one step only.</p>")
        else:
            parts.append(operations_table(step.operations, budget, touched=touched, max_rows=max_rows))
    return "\n".join(parts)


def _split(test: str) -> tuple[str, str]:
    metric, _, operation = test.partition(": ")  # metric names hold no ": ", operations may
    return metric, operation


def budget_table(budget: Mapping[str, float], alpha: float) -> str:
    """Each test's share of alpha: the pooled tests, then the per-operation tests grouped by equal shares."""
    rows, groups = [], defaultdict(list)
    for test, share in budget.items():
        metric, operation = _split(test)
        if operation == ALL_OPERATIONS:
            rows.append((metric, 0, "all operations together", share, share))
        else:
            groups[(metric, share)].append(operation)
    for (metric, share), operations in groups.items():
        scope = f"each of {len(operations):,} operations" if len(operations) > 1 else f"1 operation: {operations[0]}"
        rows.append((metric, 1, scope, share, share * len(operations)))
    order = {metric: n for n, metric in enumerate(SHARES)}  # the budget's own order: server, client, latency
    rows.sort(key=lambda r: (order.get(r[0], len(order)), r[0], r[1], -r[3]))
    rule = {LATENCY: "Mann-Whitney p < α/(k(k+1)) at look k"}
    body = "".join(
        f"<tr><td>{e(metric)}</td><td>{e(scope)}</td><td class='num'>{e(fmt.alpha(share))}</td>"
        f"<td class='num'>{e(fmt.alpha(total))}</td>"
        f"<td>{e(rule.get(metric, f'e-value ≥ 1/α = {fmt.e_value(1 / share, None)}'))}</td></tr>"
        for metric, _, scope, share, total in rows
    )
    spent = sum(budget.values())
    details = "".join(f"<tr><td>{e(_split(t)[0])}</td><td><code>{e(_split(t)[1])}</code></td>"
                      f"<td class='num'>{e(fmt.alpha(a))}</td></tr>" for t, a in sorted(budget.items()))  # fmt: skip
    return (
        "<table><thead><tr><th>Test</th><th>Over</th><th>α each</th><th>α together</th><th>Fails when</th></tr>"
        f"</thead><tbody>{body}</tbody><tfoot><tr><td colspan='3'>Spent by the tests so far (at most α "
        f"{e(fmt.alpha(alpha))})</td><td class='num'>{e(fmt.alpha(spent))}</td><td></td></tr></tfoot></table>"
        f"<details><summary>Every test ({len(budget):,})</summary><table><thead><tr><th>Test</th><th>Operation</th>"
        f"<th>α</th></tr></thead><tbody>{details}</tbody></table></details>"
    )


def weight_table(weight_changes: Sequence[WeightChange], started_at: float) -> str:
    if not weight_changes:
        return "<p>No weight change was recorded.</p>"
    body = "".join(
        f"<tr><td>{e(fmt.iso_utc(c.time))}</td><td class='num'>{e(fmt.since(c.time, started_at))}</td>"
        + _cells((fmt.count(c.canary_weight), fmt.count(c.stable_weight), fmt.rate(c.canary_share)))
        + f"<td>{e(c.reason)}</td></tr>"
        for c in sorted(weight_changes, key=lambda c: c.time)
    )
    return ("<table><thead><tr><th>Time (UTC)</th><th>Since start</th><th>Canary weight</th><th>Stable weight</th>"
            f"<th>Canary share</th><th>Reason</th></tr></thead><tbody>{body}</tbody></table>")  # fmt: skip
