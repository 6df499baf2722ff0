"""The load stage's two gates: the API's SLO (`load.slo`) and no regression against the production baseline.

The SLO is judged on all requests together, as `load.slo` states it for the API. The regression gate
compares each endpoint with the same endpoint in the last production run: a p95 over `max_ratio` times the
baseline blocks, unless the difference is under `min_delta_ms` (at a few milliseconds, bucket rounding and
scheduling noise alone can double a percentile) or either run saw too few requests for a percentile to mean
anything.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from apiops_pipelines.estate.api_config import LoadConfig, SloConfig
from apiops_pipelines.findings import Finding
from apiops_pipelines.load.stats import LoadReport

if TYPE_CHECKING:
    from apiops_pipelines.delivery.release_ledger import Release

DEFAULT_MAX_RATIO = 1.5
DEFAULT_MIN_DELTA_MS = 10.0
MIN_REQUESTS = 20


@dataclass(frozen=True)
class GateResult:
    gate: str  # "slo" or "regression"
    findings: tuple[Finding, ...]
    summary: str  # one line for the check's description

    @property
    def passed(self) -> bool:
        return not any(f.blocking for f in self.findings)


def slo_gate(report: LoadReport, slo: SloConfig) -> GateResult:
    total, findings = report.total, []
    if total.requests == 0:
        findings.append(Finding("load-no-requests", "error", "", "no request completed during the load test",
                                fix="check that the service is up and the locustfile sends requests"))  # fmt: skip
    limits = [("p95", slo.p95_ms, total.p95_ms, "ms"), ("p99", slo.p99_ms, total.p99_ms, "ms")]
    for label, limit, value, unit in limits:
        if limit is not None and value > limit:
            findings.append(Finding(f"load-slo-{label}", "error", "",
                                    f"{label} latency {value:g} {unit} is over the SLO of {limit:g} {unit} "
                                    f"(all endpoints; slowest: {_slowest(report, label)})"))  # fmt: skip
    if slo.error_rate is not None and total.error_rate > slo.error_rate:
        findings.append(Finding("load-slo-error-rate", "error", "",
                                f"error rate {total.error_rate:.2%} ({total.failures} of {total.requests}) is over "
                                f"the SLO of {slo.error_rate:.2%}"))  # fmt: skip
    if slo.min_rps is not None and total.rps < slo.min_rps:
        findings.append(Finding("load-slo-min-rps", "error", "",
                                f"throughput {total.rps:.1f} requests/s is under the SLO minimum of {slo.min_rps:g}"))
    stated = [f"{name} {value:g}" for name, value in (("p95_ms", slo.p95_ms), ("p99_ms", slo.p99_ms),
              ("error_rate", slo.error_rate), ("min_rps", slo.min_rps)) if value is not None]  # fmt: skip
    measured = (f"p95 {total.p95_ms:g} ms, p99 {total.p99_ms:g} ms, errors {total.error_rate:.2%}, "
                f"{total.rps:.1f} requests/s")  # fmt: skip
    verdict = "no SLO set (load.slo)" if not stated else ("within SLO" if not findings else "SLO missed")
    return GateResult("slo", tuple(findings), f"{verdict}: {measured}")


def regression_gate(report: LoadReport, baseline: Mapping[str, Any] | None, *, max_ratio: float = DEFAULT_MAX_RATIO,
                    min_delta_ms: float = DEFAULT_MIN_DELTA_MS,
                    label: str = "the production baseline") -> GateResult:  # fmt: skip
    """`baseline` is `LoadReport.to_baseline()` of the last production run, or None before the first one;
    `label` names it in the messages."""
    if not baseline or not isinstance(baseline.get("endpoints"), Mapping):
        return GateResult("regression", (), "no production baseline yet: nothing to compare with")
    findings, compared = [], 0
    for endpoint in report.endpoints:
        before = baseline["endpoints"].get(endpoint.key)
        if not isinstance(before, Mapping):
            findings.append(Finding("load-regression-new-endpoint", "info", "",
                                    f"{endpoint.key}: not in the baseline, nothing to compare"))  # fmt: skip
            continue
        if endpoint.requests < MIN_REQUESTS or float(before.get("requests", 0)) < MIN_REQUESTS:
            findings.append(Finding("load-regression-too-few", "info", "",
                                    f"{endpoint.key}: fewer than {MIN_REQUESTS} requests, not compared"))  # fmt: skip
            continue
        compared += 1
        was, now = max(float(before.get("p95_ms", 0.0)), 0.0), endpoint.p95_ms
        # a sub-millisecond endpoint records p95 0 (locust rounds to whole ms): any slowdown past the floor counts
        if now > was * max_ratio and now - was >= min_delta_ms:
            ratio = f"{now / was:.1f}x" if was > 0 else f"over {max_ratio:g}x"
            findings.append(Finding("load-regression-p95", "error", "",
                                    f"{endpoint.key}: p95 {now:g} ms is {ratio} {label} "
                                    f"({was:g} ms); the limit is {max_ratio:g}x"))  # fmt: skip
    slower = sum(f.blocking for f in findings)
    summary = (f"{slower} of {compared} endpoint(s) slower than {max_ratio:g}x their p95 in {label}" if slower
               else f"{compared} endpoint(s) within {max_ratio:g}x their p95 in {label}")  # fmt: skip
    return GateResult("regression", tuple(findings), summary)


@dataclass(frozen=True)
class LoadVerdict:
    slo: GateResult
    regression: GateResult
    baseline: str  # the release the regression gate compared with, or "none yet"

    @property
    def passed(self) -> bool:
        return self.slo.passed and self.regression.passed


def judge_load(report: LoadReport, config: LoadConfig,
               baseline: tuple[Release, Mapping[str, Any]] | None) -> LoadVerdict:  # fmt: skip
    """Both gates of `load:` on `report`; `baseline` as `ReleaseLedger.load_baseline` finds it (None: none yet)."""
    release = baseline[0] if baseline else None
    label = f"the {release.stage} release {release.spec_version} @ {release.commit[:12]}" if release else "none yet"
    regression = regression_gate(report, baseline[1] if baseline else None, label=label,
                                 max_ratio=config.regression.max_p95_ratio,
                                 min_delta_ms=config.regression.min_delta_ms)  # fmt: skip
    return LoadVerdict(slo_gate(report, config.slo), regression, label)


def _slowest(report: LoadReport, label: str) -> str:
    attribute = f"{label}_ms"
    if not report.endpoints:
        return "none"
    worst = max(report.endpoints, key=lambda e: getattr(e, attribute))
    return f"{worst.key} at {getattr(worst, attribute):g} ms"
