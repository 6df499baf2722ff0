"""One request as the canary judgement sees it: which arm served it, for which operation, and how it went."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from apiops_pipelines.platform.access_log import AccessRecord

Arm = Literal["canary", "stable"]
CANARY: Arm = "canary"
STABLE: Arm = "stable"
UNMATCHED = "unmatched"  # the caller's operation id for a request that matches no spec operation


@dataclass(frozen=True)
class Observation:
    time: float  # Unix seconds (HAProxy's accept date)
    arm: Arm
    operation: str  # e.g. "GET /orders/{id}"; matching paths to operations is the caller's job
    status: int
    latency_ms: float | None  # None: no response (the server never answered)
    failed_connection: bool = False  # the server side ended the session abnormally (HAProxy's termination state)
    canary_share: float = 0.0  # canary weight / total weight when the request was routed, 0..1

    @property
    def server_error(self) -> bool:
        """A 5xx or a session the server side broke: the release's failure whatever the request was."""
        return self.status >= 500 or self.failed_connection

    @property
    def client_error(self) -> bool:
        """A 4xx. Both arms get the same request mix, so a higher 4xx rate on the canary is the release's doing."""
        return 400 <= self.status < 500 and not self.failed_connection

    @property
    def timed_latency_ms(self) -> float | None:
        """The latency the rank tests compare: answered requests that were not server errors.

        A fast 503 would make a broken canary look quick; server errors have their own test.
        """
        return None if self.server_error else self.latency_ms


def observation_from_record(
    record: AccessRecord, *, operation: str, canary_server: str, stable_server: str, canary_share: float
) -> Observation | None:
    """The observation of one access-log record of the API's backend, or None for a request neither arm served."""
    if record.server == canary_server:
        arm: Arm = CANARY
    elif record.server == stable_server:
        arm = STABLE
    else:
        return None
    # Ta covers the whole exchange as the client saw it; a session without a response has no latency.
    latency = None if record.response_ms is None or record.total_ms is None else float(record.total_ms)
    return Observation(record.time, arm, operation, record.status, latency, record.server_side_broken, canary_share)
