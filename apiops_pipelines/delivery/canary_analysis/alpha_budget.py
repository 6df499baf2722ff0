"""How the analysis spends its false-alarm rate `alpha` across metrics, operations and looks (Bonferroni).

Every test of the analysis gets a fixed share of `alpha` before any request arrives, and the shares sum to at
most `alpha`; so whatever the data, the chance that any test fails a canary that is as good as the stable is
at most `alpha` (a union bound over tests that are each valid at their share, at every look).

    server errors (5xx, broken sessions)   40%: all operations together 30%, per operation 10%
    client errors (4xx)                    10%: all operations together  5%, per operation  5%
    latency (Mann-Whitney)                 50%: all operations together 15%, per operation 35%

Server errors get the biggest share because an error regression hurts users most and detecting it within a
hundred canary requests needs every bit of it (see error_rate_test). Per-operation shares are split evenly
among the spec's declared operations plus one reserve share; an operation that was not declared (say
"unmatched") takes 1/(j(j+1)) of the reserve, j being the order in which undeclared operations first appear,
a series that sums to 1, so the budget holds however many turn up. Latency tests spend their share again
across looks (latency_test).
"""

from __future__ import annotations

from dataclasses import dataclass, field

SERVER, CLIENT, LATENCY = "server errors", "client errors", "latency"
ALL_OPERATIONS = "all operations"

SHARES: dict[str, tuple[float, float]] = {  # metric: (all operations together, all per-operation tests)
    SERVER: (0.30, 0.10),
    CLIENT: (0.05, 0.05),
    LATENCY: (0.15, 0.35),
}


@dataclass
class AlphaBudget:
    alpha: float
    operations: tuple[str, ...] = ()
    _undeclared: dict[str, int] = field(default_factory=dict)

    def for_test(self, metric: str, operation: str) -> float:
        """The alpha of one test: `metric` over `operation` (ALL_OPERATIONS for the pooled test)."""
        overall, per_operation = SHARES[metric]
        if operation == ALL_OPERATIONS:
            return self.alpha * overall
        return self.alpha * per_operation * self.operation_fraction(operation)

    def operation_fraction(self, operation: str) -> float:
        slots = len(self.operations) + 1  # the +1 is the reserve for operations nobody declared
        if operation in self.operations:
            return 1 / slots
        j = self._undeclared.setdefault(operation, len(self._undeclared) + 1)
        return 1 / slots / (j * (j + 1))
