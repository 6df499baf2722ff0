"""Production's SLO state across APIs: which are in breach, which just entered one (those notify, once), and the
one verdict the `production_within_slo` check records for production as a whole.

An API in breach stays in breach until a window of it passes: a window with too few requests, or none at all,
decides nothing, so an API that broke and then went quiet still shows red.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from apiops_pipelines.monitor.slo import BREACH, PASS, UNKNOWN, SloVerdict
from apiops_pipelines.monitor.window import ApiWindow
from apiops_pipelines.notify import Event, slo_breach

MAX_NAMED = 5  # APIs named in a one-line verdict; the table holds them all


def breaches_begun(before: Iterable[str], verdicts: Mapping[str, SloVerdict]) -> tuple[tuple[str, ...], list[str]]:
    """Which APIs are in breach after this window, and which of them just entered it."""
    before = set(before)
    breaching = set(before)
    for api, verdict in verdicts.items():
        if verdict.decision == BREACH:
            breaching.add(api)
        elif verdict.decision == PASS:
            breaching.discard(api)
    return tuple(sorted(breaching)), sorted(breaching - before)


@dataclass(frozen=True)
class ProductionVerdict:
    passed: bool
    unknown: bool  # nothing in breach, but an API's SLO could not be read: a warning, not a pass
    description: str
    in_breach: tuple[str, ...] = ()


def production_verdict(verdicts: Mapping[str, SloVerdict], breaching: Iterable[str] = ()) -> ProductionVerdict:
    """Production within its SLOs: no API judged in breach now, none still in breach from an earlier window."""
    still = sorted(set(breaching) - set(verdicts))
    failed = sorted(api for api, verdict in verdicts.items() if verdict.decision == BREACH)
    unknown = sorted(api for api, verdict in verdicts.items() if verdict.decision == UNKNOWN)
    parts = [f"{api}: {'; '.join(verdicts[api].reasons)}" for api in failed]
    parts += [f"{api}: still in breach (no verdict in this window)" for api in still]
    parts += [f"{api}: {verdicts[api].summary}" for api in unknown]
    if not parts:
        judged = sorted(api for api, verdict in verdicts.items() if verdict.decision == PASS)
        parts = [f"within SLO: {', '.join(judged)}" if judged else "no API had enough requests for a verdict"]
    shown = parts[:MAX_NAMED] + ([f"and {len(parts) - MAX_NAMED} more"] if len(parts) > MAX_NAMED else [])
    return ProductionVerdict(not failed and not still and not unknown, bool(unknown) and not failed and not still,
                             " | ".join(shown), tuple(sorted(failed + still)))


def breach_event(window: ApiWindow, verdict: SloVerdict, commit: str, link: str) -> Event:
    """The notification of an API entering a breach (notify/events.py's `slo_breach`): the limits missed and the
    window's size, never a request path or header, so nothing a client sent can reach a webhook."""
    when = datetime.fromtimestamp(window.start, UTC).isoformat(timespec="seconds")
    size = f"{window.total.requests} requests in {window.window_s:.0f} s from {when}"
    return slo_breach(window.api, commit, verdict.reasons or [verdict.summary], window=size, url=link)
