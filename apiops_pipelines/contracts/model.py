"""What provider verification found: per consumer and interaction, the outcome and the mismatches.

Three outcomes for the whole API, because "nothing to verify" must never read as "verified":
`verified` (every interaction replayed and matched), `failed` (an interaction that is not pending did not
match, or a pact could not be used) and `no-consumers` (no consumer pact names this provider).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Outcome = Literal["passed", "failed", "pending-failed"]  # pending-failed: a V4 pending interaction, never blocks
Status = Literal["verified", "failed", "no-consumers"]


@dataclass(frozen=True)
class Mismatch:
    kind: str  # the verifier's type: BodyMismatch, StatusMismatch, HeaderMismatch, QueryMismatch, ...; or Error
    message: str
    path: str | None = None  # where in the body, e.g. "$.items[0].customerId"
    expected: str | None = None
    actual: str | None = None


@dataclass(frozen=True)
class InteractionVerdict:
    consumer: str
    description: str
    provider_states: tuple[str, ...]
    outcome: Outcome
    mismatches: tuple[Mismatch, ...] = ()
    pact_file: str | None = None
    duration: str | None = None  # as the verifier reports it, e.g. "38ms"

    @property
    def blocking(self) -> bool:
        return self.outcome == "failed"


@dataclass(frozen=True)
class PactProblem:
    """A pact that could not be verified at all (unreadable, or written for another provider): blocking."""

    file: str
    message: str
    fix: str | None = None
    line: int | None = None

    @property
    def location(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file


@dataclass(frozen=True)
class ContractVerification:
    provider: str
    provider_url: str
    interactions: tuple[InteractionVerdict, ...] = ()
    problems: tuple[PactProblem, ...] = ()
    notes: tuple[str, ...] = ()  # what was left out and why (message interactions, no state URL, ...)
    output: str = ""  # the verifier's own text report

    @property
    def consumers(self) -> list[str]:
        return sorted({verdict.consumer for verdict in self.interactions})

    @property
    def status(self) -> Status:
        if self.problems or any(v.blocking for v in self.interactions):
            return "failed"
        return "verified" if self.interactions else "no-consumers"

    @property
    def blocking(self) -> bool:
        return self.status == "failed"

    @property
    def counts(self) -> dict[str, int]:
        counts = {"consumers": len(self.consumers), "interactions": len(self.interactions), "passed": 0,
                  "failed": 0, "pending-failed": 0, "unusable_pacts": len(self.problems)}  # fmt: skip
        for verdict in self.interactions:
            counts[verdict.outcome] += 1
        return counts

    def headline(self) -> str:
        """One line for a check's description."""
        if self.status == "no-consumers":
            return f"no consumers: no consumer pact names provider '{self.provider}', so nothing was verified"
        counts = self.counts
        if self.status == "verified" and not counts["pending-failed"]:
            return f"all {counts['interactions']} interaction(s) of {counts['consumers']} consumer(s) verified"
        parts = []
        if counts["interactions"]:
            parts.append(f"{counts['failed']} of {counts['interactions']} interaction(s) failed for "
                         f"{counts['consumers']} consumer(s)")  # fmt: skip
        if counts["pending-failed"]:
            parts.append(f"{counts['pending-failed']} pending interaction(s) failed (not blocking)")
        if self.problems:
            parts.append(f"{len(self.problems)} pact file(s) could not be verified")
        return "; ".join(parts)
