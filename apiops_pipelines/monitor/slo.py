"""A window of production traffic judged against the API's SLO: `load.slo` of its apiops.yaml at the production
commit, through the load stage's own SLO gate, so production and the load test mean the same by p95, p99 and
error rate (server errors: 5xx and server-side broken sessions; a 4xx is the client's).

`min_rps` is left out: in a load test it is the throughput the service must reach; in production the request
rate is the users' demand, and a quiet night is no breach. A window with fewer than MIN_REQUESTS requests gets no
verdict: its p95 is one of a handful of requests, and a single error would be several percent.
"""

from __future__ import annotations

from dataclasses import dataclass

from apiops_pipelines.estate.api_config import SloConfig
from apiops_pipelines.estate.catalog import load_catalog
from apiops_pipelines.estate.git import GitRepo
from apiops_pipelines.findings import Finding
from apiops_pipelines.load.gates import slo_gate
from apiops_pipelines.load.stats import EndpointStats, LoadReport
from apiops_pipelines.monitor.window import ApiWindow, TrafficStats

MIN_REQUESTS = 20
PASS, BREACH, TOO_FEW, UNKNOWN = "pass", "breach", "too few requests", "SLO unknown"


@dataclass(frozen=True)
class SloVerdict:
    decision: str  # PASS, BREACH, TOO_FEW or UNKNOWN
    summary: str  # one line for the check's description
    findings: tuple[Finding, ...] = ()
    stated: str = ""  # the SLO judged against, as written: "p95_ms 250, error_rate 0.01"

    @property
    def breached(self) -> bool:
        return self.decision == BREACH

    @property
    def reasons(self) -> list[str]:
        """What was missed, one message per SLO limit."""
        return [finding.message for finding in self.findings if finding.blocking]


class SloUnavailable(RuntimeError):
    """The SLO of the production commit cannot be read (no apiops.yaml for the API there, a broken one)."""


def production_slo(repo: GitRepo, commit: str, api: str) -> SloConfig:
    """`load.slo` of the API's apiops.yaml at `commit` (the production release's; a commit never changes)."""
    catalog = load_catalog(repo, commit)
    definition = catalog.apis.get(api)
    if definition is None:
        errors = catalog.errors_for(api)
        raise SloUnavailable(str(errors[0]) if errors else f"no apiops.yaml with 'name: {api}' at {commit[:12]}")
    return definition.config.load.slo


def judge(window: ApiWindow, slo: SloConfig | None, unavailable: str = "") -> SloVerdict:
    """The window's verdict; `slo` None (with why in `unavailable`) when the SLO could not be read."""
    total = window.total
    scope = f"{total.requests} request(s) in {window.window_s:.0f} s"
    if slo is None:
        return SloVerdict(UNKNOWN, f"SLO unknown ({unavailable}); {scope}")
    if total.requests < MIN_REQUESTS:
        return SloVerdict(TOO_FEW, f"too few requests for a verdict: {scope}, at least {MIN_REQUESTS} needed")
    judged = slo.model_copy(update={"min_rps": None})
    gate = slo_gate(_as_load_report(window), judged)
    stated = ", ".join(f"{name} {value:g}" for name, value in judged.model_dump().items() if value is not None)
    return SloVerdict(PASS if gate.passed else BREACH, f"{gate.summary} ({scope})", gate.findings, stated)


def _as_load_report(window: ApiWindow) -> LoadReport:
    """The window in the load stage's terms (a request without a response has no latency and counts as 0 ms
    there; it is a server error all the same)."""
    def endpoint(name: str, stats: TrafficStats, rps: float) -> EndpointStats:
        method, _, path = name.partition(" ")
        return EndpointStats(method if path else "", path or name, stats.requests, stats.server_errors, rps,
                             stats.p50_ms or 0.0, stats.p95_ms or 0.0, stats.p99_ms or 0.0, 0.0, stats.max_ms or 0.0)

    endpoints = tuple(endpoint(name, stats, stats.requests / window.window_s)
                      for name, stats in window.operations.items())  # fmt: skip
    return LoadReport(endpoints, endpoint("Aggregated", window.total, window.requests_per_s),
                      duration_s=window.window_s)  # fmt: skip
