"""Who may call an operation: a client that satisfied one of the old security alternatives must still
satisfy one of the new ones, or the change breaks it."""

from __future__ import annotations

from apiops_pipelines.diff.operation_model import Security
from apiops_pipelines.diff.reporter import OperationReport

Alternative = dict[str, frozenset[str]]


def _within(required: Alternative, held: Alternative) -> bool:
    """A client holding `held` satisfies `required`."""
    return all(name in held and scopes <= held[name] for name, scopes in required.items())


def describe(security: Security | None) -> str:
    if not security:
        return "no authentication"
    return " or ".join(
        " and ".join(f"{name}{' [' + ', '.join(sorted(s)) + ']' if s else ''}" for name, s in sorted(alt.items()))
        or "no authentication"
        for alt in security
    )


def diff_security(report: OperationReport) -> None:
    old, new = report.base.security, report.revision.security
    if old == new:
        return
    pointer = report.revision.security_pointer if new is not None else report.base.security_pointer
    old_open = old is None or any(not alt for alt in old)
    new_open = new is None or any(not alt for alt in new)
    if old_open and not new_open:
        report.add("security-added", pointer, f"now requires {describe(new)} (had no security requirement)")
        return
    if new_open and not old_open:
        report.add("security-removed", pointer, f"no longer requires authentication (was {describe(old)})")
        return
    old_alts, new_alts = old or [], new or []
    for alt in old_alts:
        if any(_within(candidate, alt) for candidate in new_alts):
            continue
        same = next((c for c in new_alts if c.keys() == alt.keys()), None)
        if same is not None:
            added = sorted(s for name in alt for s in same[name] - alt[name])
            report.add("security-scopes-added", pointer, f"now requires scopes {', '.join(added)} ({describe(new)})")
        else:
            text = f"clients using {describe([alt])} are no longer accepted: requires {describe(new)}"
            report.add("security-tightened", pointer, text)
    for alt in new_alts:
        if any(_within(previous, alt) for previous in old_alts):
            continue  # nobody new is let in by this alternative
        same = next((c for c in old_alts if c.keys() == alt.keys()), None)
        if same is not None:
            removed = sorted(s for name in alt for s in same[name] - alt[name])
            report.add("security-scopes-removed", pointer, f"no longer requires scopes {', '.join(removed)}")
        else:
            report.add("security-loosened", pointer, f"now also accepts {describe([alt])} (was {describe(old)})")
