"""Numbers as an operator reads them, shared by the Markdown and the HTML evidence so both say the same.

Counts get thousands separators, rates are percentages with the precision their size needs (0.05% is not
0.0%), milliseconds keep three significant digits up to 100 ms and whole ones above, times are UTC with
milliseconds (weight changes within a second of each other must stay apart). A missing value is an en dash,
never 0: "no latency yet" and "0 ms" are different facts.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone

from apiops_pipelines.delivery.canary_analysis.reasons import big, probability

MISSING = "–"


def count(value: int) -> str:
    return f"{value:,}"


def rate(value: float | None) -> str:
    if value is None or math.isnan(value):
        return MISSING
    percent = 100 * value
    if percent == 0:
        return "0%"
    if percent < 0.01:
        return "<0.01%"
    if percent < 1:
        return f"{percent:.2f}%"
    if percent >= 99.95 and value < 1:
        return ">99.9%"  # 99.97% rounded to 100.0% would read as "every request failed"
    return f"{percent:.1f}%"


def count_rate(errors: int, requests: int) -> str:
    """"12 (10.0%)"; just the count when there were no requests to take a rate of."""
    return f"{errors:,} ({rate(errors / requests)})" if requests else f"{errors:,}"


def ms(value: float | None, signed: bool = False) -> str:
    if value is None or math.isnan(value):
        return MISSING
    if math.isinf(value):
        return "∞" if value > 0 else "-∞"
    sign = "+" if signed and value > 0 else ""
    size = abs(value)
    if size >= 100:
        return f"{sign}{value:,.0f}"
    if size >= 1 or size == 0:
        return f"{sign}{value:.1f}"
    return f"{sign}{value:.2f}"


def ms_unit(value: float | None, signed: bool = False) -> str:
    text = ms(value, signed)
    return text if text == MISSING else f"{text} ms"


def ratio(value: float | None) -> str:
    if value is None or math.isnan(value):
        return MISSING
    if math.isinf(value):
        return "∞"
    return f"{value:.2f}×"


def shift_with_interval(shift: float | None, low: float | None, high: float | None) -> str:
    """The Hodges-Lehmann shift and its 95% confidence interval: "+12.0 [9.0, 15.0]"."""
    if shift is None:
        return MISSING
    return f"{ms(shift, signed=True)} [{ms(low)}, {ms(high)}]"


def alpha(value: float | None) -> str:
    if value is None:
        return MISSING
    return f"{value:.2g}"  # 0.003, 0.00035, 5e-05: two digits are all a budget's shares carry


def e_value(value: float, test_alpha: float | None) -> str:
    """The e-value against the threshold that fails the canary, 1/α of that test: "0.52 / 333"."""
    limit = f" / {big(1 / test_alpha)}" if test_alpha else ""
    return f"{big(value)}{limit}"


def mann_whitney(z: float | None, p: float | None, look_alpha: float | None) -> str:
    if z is None or p is None:
        return "no look yet"
    return f"z={z:.2f}, p={probability(p)}, α {alpha(look_alpha)}"


def iso_utc(unix_s: float) -> str:
    """"2024-05-01T12:00:00.123Z", rounded to the millisecond as `since` is (isoformat alone truncates)."""
    whole_ms = round(unix_s * 1000)
    moment = datetime.fromtimestamp(whole_ms // 1000, timezone.utc) + timedelta(milliseconds=whole_ms % 1000)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def since(unix_s: float, started_at: float) -> str:
    """Seconds from the canary's start, to the millisecond: "+12.345 s" (negative before the first step)."""
    return f"{unix_s - started_at:+,.3f} s"


def duration(seconds: float) -> str:
    if seconds < 0 or math.isnan(seconds):
        return MISSING
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {rest:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def short_commit(sha: str | None) -> str:
    return sha[:12] if sha else MISSING
