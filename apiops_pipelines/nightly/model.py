"""What a nightly regression found: one outcome per gate, and the verdict on the production release."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

PASSED, FAILED, SKIPPED, ERROR = "passed", "failed", "skipped", "error"
# Production's spec falling behind today's governance rules is worth a warning, not an alarm: consumers are
# served as before. Every other gate failing means production misbehaves, or breaks a consumer, today.
GOVERNANCE_GATES = ("governance_lint",)
WARN, ERROR_SEVERITY = "WARN", "ERROR"


@dataclass(frozen=True)
class GateOutcome:
    gate: str  # spec_is_valid, governance_lint, consumer_pacts_match_spec, consumer_contracts_verified, ...
    result: str  # passed, failed, skipped, error (it could not run: counts as a failure)
    findings: int  # what failed: findings, interactions, failure groups, cases, endpoints
    summary: str  # one line, secrets already scrubbed
    reports: dict[str, Path] = field(default_factory=dict)  # label -> report file or folder

    @property
    def failed(self) -> bool:
        return self.result in (FAILED, ERROR)


@dataclass(frozen=True)
class NightlyReport:
    api: str
    commit: str  # the production commit that was verified
    spec_version: str
    spec_sha256: str
    branch: str
    branch_head: str  # where today's ruleset and consumer pacts were read
    gates: tuple[GateOutcome, ...]
    reports: Path  # the run's report folder
    notes: tuple[str, ...] = ()

    @property
    def passed(self) -> bool:
        return not any(gate.failed for gate in self.gates)

    @property
    def severity(self) -> str:
        """ERROR when production misbehaves or breaks a consumer; WARN when only today's rules fail it."""
        serious = [g for g in self.gates if g.failed and g.gate not in GOVERNANCE_GATES]
        return ERROR_SEVERITY if serious or self.passed else WARN

    @property
    def failed_gates(self) -> list[GateOutcome]:
        return [gate for gate in self.gates if gate.failed]

    def headline(self) -> str:
        what = f"{self.spec_version} @ {self.commit[:12]}"
        if self.passed:
            return f"production {what} passes every gate of today ({len(self.gates)} gates)"
        failed = "; ".join(f"{g.gate}: {g.summary}" for g in self.failed_gates)
        return f"production {what} fails {len(self.failed_gates)} of {len(self.gates)} gate(s) today: {failed}"
