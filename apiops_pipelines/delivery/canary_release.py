"""Releasing a commit to production: a first release routed alone behind a smoke pass, or a canary beside the
stable, judged step by step, rolled back at once on a failing verdict. No Dagster here: the asset turns the
result into metadata and the `canary_analysis` check.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from apiops_pipelines.delivery.canary_analysis import settings_from_config
from apiops_pipelines.delivery.canary_run import CanaryOutcome, CanaryRun, time_limit
from apiops_pipelines.delivery.deployments import DeployedRelease
from apiops_pipelines.delivery.operation_matcher import OperationMatcher
from apiops_pipelines.delivery.production import Production
from apiops_pipelines.delivery.smoke import SmokeResult, smoke_pass
from apiops_pipelines.delivery.touched import touched_operations
from apiops_pipelines.estate.api_config import CanaryConfig, ServiceConfig
from apiops_pipelines.load.plan import PlanError, plan_from_spec
from apiops_pipelines.load.traffic import TrafficProcess, start_traffic
from apiops_pipelines.platform.access_log_tail import AccessLogTail
from apiops_pipelines.platform.instances import ServiceStartError
from apiops_pipelines.platform.platform_error import PlatformError


class CanaryStartError(RuntimeError):
    """The release could not start (or its traffic could not); production is untouched."""


@dataclass(frozen=True)
class ReleaseRequest:
    api: str
    repo: Path
    commit: str
    api_folder: str
    service: ServiceConfig  # environments.production applied
    canary: CanaryConfig
    identity: Mapping[str, str]  # commit, spec_sha256, spec_version
    run_id: str
    document: dict[str, Any]  # the bundled spec
    frontend_url: str  # http://127.0.0.1:8080/<api>
    reports: Path
    baseline_spec: Path | None = None  # the stable's bundled spec, for the operations the diff touched
    locustfile: Path | None = None  # the API's own, materialized at the commit; None: generated from the spec
    headers: Mapping[str, str] = field(default_factory=dict)
    allow_hosts: Iterable[str] = ()
    environ: Mapping[str, str] | None = None
    # Requests ("GET /books/1" or "GET /books/{bookId}") the API's own locustfile sent in the load stage: a
    # touched operation it never calls cannot reach its minimum, so only the ones it calls are required.
    locustfile_requests: Iterable[str] = ()


@dataclass
class ReleaseResult:
    release: DeployedRelease
    stable: DeployedRelease | None  # None: a first release
    smoke: list[SmokeResult] = field(default_factory=list)
    outcome: CanaryOutcome | None = None
    touched: tuple[str, ...] = ()
    not_exercised: tuple[str, ...] = ()  # touched, but the generated traffic never calls them
    stale_canary: DeployedRelease | None = None
    traffic: TrafficProcess | None = None

    @property
    def passed(self) -> bool:
        if self.outcome is not None:
            return self.outcome.passed
        return bool(self.smoke) and all(r.passed for r in self.smoke)


def release_to_production(production: Production, request: ReleaseRequest,
                          log: Callable[[str], None] = lambda _m: None) -> ReleaseResult:  # fmt: skip
    api = request.api
    stale = production.abort_canary(api)  # an earlier run's canary the watchdog has not cleaned up yet
    stable = production.deployment(api).stable
    try:
        release = production.start(api, request.repo, request.commit, request.api_folder, request.service,
                                   request.environ or {}, request.identity, request.run_id)  # fmt: skip
    except (PlatformError, ServiceStartError) as exc:
        keeps = f"production keeps serving {stable.spec_version} @ {stable.commit[:12]}" if stable else "nothing routed"
        raise CanaryStartError(f"the release of '{api}' at {request.commit[:12]} did not start: {exc} ({keeps})") from None
    try:  # the instance is recorded nowhere until it is routed: stopped here if routing it fails
        if stable is None:
            production.route_first(api, release, request.service.health)
        else:
            production.add_canary(api, release, request.service.health)
    except BaseException:
        production.discard(release)
        raise
    if stable is None:
        smoke = smoke_pass(request.frontend_url, request.document, request.headers)
        result = ReleaseResult(release, None, smoke=smoke, stale_canary=stale)
        if not result.passed:
            production.withdraw(api)
        return result
    result = ReleaseResult(release, stable, stale_canary=stale)
    try:
        result.touched = touched_operations(request.baseline_spec, request.document)
        result.outcome = _judge(production, request, result, log)
    finally:
        if result.traffic is not None:
            result.traffic.stop()
        if result.outcome is None or not result.outcome.passed:
            production.abort_canary(api)
    if result.outcome.passed:  # the promotion may run in another process: this one's exit is no abandonment
        production.canary_passed(api, release)
    return result


def _judge(production: Production, request: ReleaseRequest, result: ReleaseResult,
           log: Callable[[str], None]) -> CanaryOutcome:  # fmt: skip
    api, config = request.api, request.canary
    matcher = OperationMatcher(request.document, prefix=f"/{api}")
    exercised = _exercised(request, matcher)
    required = tuple(op for op in result.touched if exercised is None or op in exercised)
    result.not_exercised = tuple(op for op in result.touched if op not in required)
    settings = settings_from_config(config, operations=matcher.operations, touched_operations=required)
    tail = AccessLogTail(production.platform.access_log).start_at_end()
    if config.traffic == "generated":
        try:
            result.traffic = start_traffic(request.frontend_url, config.rps, time_limit(settings),
                                           request.reports / "traffic",
                                           locustfile=request.locustfile,
                                           spec=None if request.locustfile else request.document,
                                           headers=request.headers, allow_hosts=request.allow_hosts,
                                           environ=request.environ)  # fmt: skip
        except ValueError as exc:  # PlanError, TargetNotAllowed
            raise CanaryStartError(f"canary traffic for '{api}': {exc}") from None
        production.record_traffic(api, result.traffic.pid, result.traffic.identity)
    stable = result.stable
    assert stable is not None
    log(f"{api}: canary {result.release.server} ({request.identity.get('spec_version')} @ {request.commit[:12]}) "
        f"beside {stable.server} ({stable.spec_version}), steps {list(settings.steps)}, traffic {config.traffic}"
        f"{f' at {config.rps:g} req/s' if result.traffic else ''}")  # fmt: skip
    run = CanaryRun(api, settings, result.release.server, stable.server, matcher,
                    set_weights=lambda canary, stable_weight, _why: production.set_split(api, canary, stable_weight),
                    read_records=tail.read, traffic_alive=result.traffic.running if result.traffic else None,
                    on_progress=log)  # fmt: skip
    return run.run()


def _exercised(request: ReleaseRequest, matcher: OperationMatcher) -> frozenset[str] | None:
    """The operations the canary's traffic can call: every one with live users (None), those of the load plan
    generated from the spec (its GETs but the health path, those weighted 0 and those without generable
    parameters) with traffic generated from the spec, what the API's locustfile called in the load stage."""
    if request.canary.traffic == "live":
        return None
    if request.locustfile is None:
        try:  # the plan start_traffic sends: same spec, same defaults, same seed
            plan = plan_from_spec(request.document)
        except PlanError:
            return frozenset()  # start_traffic refuses this spec too
        return frozenset(f"{op.method} {op.name}" for op in plan.operations)
    found = set()
    for sent in request.locustfile_requests:
        method, _, path = sent.partition(" ")
        found.add(matcher.operation(method, path))
    return frozenset(found)
